import type { ComponentChildren } from "preact";

/** A region of the page: a `<section>` named by its heading. */
export function Region(props: { id: string; title: string; class?: string; children: ComponentChildren }) {
  const headingId = `${props.id}-heading`;
  return (
    <section class={`region ${props.class ?? ""}`} aria-labelledby={headingId}>
      <h2 id={headingId}>{props.title}</h2>
      {props.children}
    </section>
  );
}
