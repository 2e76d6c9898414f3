export {
  DIALECTS,
  resolveCapabilities,
  STRUCTURED_OUTPUTS,
  type StructuredOutput,
} from "./dialect.ts";
