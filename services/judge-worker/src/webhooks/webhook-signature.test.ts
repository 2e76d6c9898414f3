import { Webhook } from "standardwebhooks";
import { describe, expect, it } from "vitest";
import { webhookSigner } from "./webhook-signature.ts";

describe("webhookSigner", () => {
  it("signs the Standard Webhooks specification's example as the specification does", () => {
    // The example of the specification (and of its reference libraries' tests).
    const sign = webhookSigner("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");
    const headers = sign("msg_p5jXN8AQM9LWM0D4loKWxJek", new Date(1614265330_000), '{"test": 2432232314}');
    expect(headers).toEqual({
      "webhook-id": "msg_p5jXN8AQM9LWM0D4loKWxJek",
      "webhook-timestamp": "1614265330",
      "webhook-signature": "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
    });
  });

  it("makes headers a receiver verifies, and that fail with another secret or another body", () => {
    const secret = `whsec_${Buffer.alloc(24, 7).toString("base64")}`;
    const body = JSON.stringify({ type: "fusion.completed", data: { id: "f1" } });
    const headers = { ...webhookSigner(secret)("f1", new Date(), body) };
    expect(new Webhook(secret).verify(body, headers)).toEqual(JSON.parse(body));
    expect(() => new Webhook(secret).verify(`${body} `, headers)).toThrow(/signature/);
    const other = `whsec_${Buffer.alloc(24, 8).toString("base64")}`;
    expect(() => new Webhook(other).verify(body, headers)).toThrow(/signature/);
  });
});
