/**
 * A reasoning block some providers write at the start of the content (DeepSeek-R1 on Together, vLLM
 * without a reasoning parser); one never closed (the answer was cut off while thinking) runs to the end.
 */
const LEADING_THINK_BLOCK = /^\s*<think>(?:[\s\S]*?<\/think>|[\s\S]*$)/;

/**
 * A panelist's answer as the judge and the fusion result get it: its text without the reasoning a
 * provider left inline in the content as a leading `<think>…</think>` block. (Reasoning sent in its
 * own fields, or as thinking parts of an array content, is never part of the turn's content.)
 */
export function answerText(content: string): string {
  return content.replace(LEADING_THINK_BLOCK, "").trim();
}
