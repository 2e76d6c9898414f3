/**
 * How a queue's job slots (`PANEL_CONCURRENCY`, …) are split over BullMQ workers, each one loop that
 * fetches jobs. A BullMQ worker fetches one job per round trip and, while its queue has a backlog,
 * starts none until it holds all its slots: with 10,000 slots, the first job it fetched waits for
 * 9,999 round trips, its lock unrenewed (the worker renews only the jobs it has started), and the
 * lock lapses under load. Loops of at most `perLoop` slots start within a few hundred round trips,
 * and fetch side by side.
 *
 * Returns the slots of each loop: as few loops as hold `total`, as even as they go (they add up to
 * `total`; one loop when `total` fits).
 */
export function splitWorkerSlots(total: number, perLoop: number): number[] {
  const loops = Math.max(1, Math.ceil(total / Math.max(1, perLoop)));
  const base = Math.floor(total / loops);
  const extra = total % loops;
  return Array.from({ length: loops }, (_, i) => base + (i < extra ? 1 : 0));
}
