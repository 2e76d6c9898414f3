import type { BackgroundPermits } from "@fusion/intake";

/** The first wait of a lane for a background permit; each next wait is twice as long, up to the most. */
const FIRST_WAIT_MS = 1000;
const LONGEST_WAIT_MS = 30_000;
/** Tries to reach Redis for a permit before the attempt fails (fail closed: it never runs without one). */
const PERMIT_TRIES = 10;
const REDIS_RETRY_MS = 1000;

/**
 * How long a lane waits before it asks again for a permit, after `waits` waits: 1 s doubling to 30 s,
 * jittered (between half and all of it), so that lanes that found none together do not ask together.
 */
export function permitWaitMs(waits: number, random: () => number = Math.random): number {
  const full = Math.min(LONGEST_WAIT_MS, FIRST_WAIT_MS * 2 ** Math.min(waits, 16));
  return Math.round(full / 2 + (random() * full) / 2);
}

/** The fusion's background permit; false when its key has none free. Redis unreachable: tried again, then thrown. */
export async function takePermit(
  permits: BackgroundPermits,
  owner: string,
  fusionId: string,
): Promise<boolean> {
  for (let tries = 1; ; tries++) {
    try {
      return await permits.acquire(owner, fusionId);
    } catch (err) {
      if (tries >= PERMIT_TRIES) throw err;
      await new Promise((r) => setTimeout(r, REDIS_RETRY_MS));
    }
  }
}
