import { afterAll, beforeAll } from "vitest";
import { SimulatorControl } from "./control-client.ts";
import { type RunningSimulator, startSimulator } from "./server.ts";

/** A running simulator and a control client pointed at it. */
export interface SimulatorFixture extends RunningSimulator {
  control: SimulatorControl;
}

/**
 * Starts a fresh simulator before the tests of the calling file (or `describe` block) and closes it
 * after them. The returned object is filled in by that `beforeAll`: read its fields in hooks and tests
 * registered after this call, never at the top level.
 */
export function useSimulator(): SimulatorFixture {
  const fixture = {} as SimulatorFixture;
  beforeAll(async () => {
    const sim = await startSimulator();
    Object.assign(fixture, sim, { control: new SimulatorControl(sim.url, sim.controlToken) });
  });
  afterAll(async () => {
    await fixture.close?.();
  });
  return fixture;
}
