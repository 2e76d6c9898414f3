import { randomBytes } from "node:crypto";

/**
 * A fusion's id: also the completion id, the turn job's id and the tag of its Redis keys. The time
 * (base 36) keeps ids roughly in creation order; 96 random bits (hex) keep them unguessable.
 */
export const newFusionId = () => `gen-fusion-${Date.now().toString(36)}${randomBytes(12).toString("hex")}`;
