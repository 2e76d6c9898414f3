import { completionBody, sendJson } from "@fusion/testing";
import { describe, expect, it } from "vitest";
import { upstreamFailure as failure, useScriptedUpstream } from "./scripted-upstream.ts";

const apiKey = "sk-or-v1-FINISHERRORKEY0123456789";
const request = { model: "test/model", messages: [{ role: "user", content: "hi" }] };

const upstream = useScriptedUpstream({ apiKey, maxRetries: 0 });

const errorChoice = (extra: Record<string, unknown> = {}) => ({
  index: 0,
  message: { role: "assistant", content: "partial" },
  finish_reason: "error",
  ...extra,
});

describe("a 200 completion whose choice finished with an error", () => {
  it("is an error with the code and message of the error beside the choices", async () => {
    const { client } = await upstream.start((_req, res) =>
      sendJson(
        res,
        200,
        completionBody("", {
          error: { code: 502, message: `provider went away (key ${apiKey})` },
          choices: [errorChoice()],
        }),
      ),
    );
    const error = await failure(client.complete(request));
    expect(error).toMatchObject({ kind: "http", status: 502, retryable: true });
    expect(error.message).toBe(
      "upstream returned an error: provider went away (key [redacted]) (status 502) (model test/model)",
    );
    expect(JSON.stringify(error.body)).not.toContain(apiKey);
  });

  it("takes the error on the choice itself, as OpenRouter sends it", async () => {
    const { client } = await upstream.start((_req, res) =>
      sendJson(
        res,
        200,
        completionBody("", {
          choices: [errorChoice({ error: { code: 429, message: "upstream rate limited" } })],
        }),
      ),
    );
    const error = await failure(client.complete(request));
    expect(error).toMatchObject({ kind: "http", status: 429 });
    expect(error.message).toContain("upstream rate limited");
  });

  it("is a 502 when it says nothing more", async () => {
    const { client } = await upstream.start((_req, res) =>
      sendJson(res, 200, completionBody("", { choices: [errorChoice()] })),
    );
    const error = await failure(client.complete(request));
    expect(error).toMatchObject({ kind: "http", status: 502 });
    expect(error.message).toContain("the completion finished with an error");
  });

  it("is an error when an error object comes beside a choice that did not finish", async () => {
    const { client } = await upstream.start((_req, res) =>
      sendJson(
        res,
        200,
        completionBody("", {
          error: { code: 400, message: "Token limit reached" },
          choices: [{ index: 0, message: { role: "assistant", content: "" }, finish_reason: null }],
        }),
      ),
    );
    const error = await failure(client.complete(request));
    expect(error).toMatchObject({ kind: "http", status: 400, retryable: false });
    expect(error.message).toContain("Token limit reached");
  });

  it("leaves completions that finished normally alone, even beside an error field", async () => {
    const { client } = await upstream.start((_req, res) =>
      sendJson(res, 200, completionBody("fine", { error: { code: 500, message: "ignored" } })),
    );
    const { turn } = await client.complete(request);
    expect(turn.content).toBe("fine");
  });
});
