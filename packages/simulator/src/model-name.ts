/**
 * The concrete model a slug is answered as: `~vendor/name-latest` becomes `vendor/name-sim-1`, any
 * other `~` alias loses its `~`, and concrete slugs are echoed as given.
 */
export function concreteModel(slug: string): string {
  if (!slug.startsWith("~")) return slug;
  return slug.slice(1).replace(/-latest$/, "-sim-1");
}
