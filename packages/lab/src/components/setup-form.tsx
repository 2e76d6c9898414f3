import type { ModelCatalog } from "../api/models.ts";
import { MAX_PANEL, type Settings, settingsProblem, TOOL_CALLS } from "../settings.ts";
import { Region } from "./region.tsx";

interface Props {
  settings: Settings;
  onChange: (patch: Partial<Settings>) => void;
  catalog: ModelCatalog | null;
  /** Whether the gateway wants an API key (`/api/v1/models` answered 401 without one). */
  keyRequired: boolean;
  apiKey: string;
  onApiKey: (key: string) => void;
  modelsError: string | null;
  running: boolean;
  onRun: () => void;
  onCancel: () => void;
}

const value = (e: Event) =>
  (e.currentTarget as HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement).value;
const checked = (e: Event) => (e.currentTarget as HTMLInputElement).checked;

/** The set-up: key, prompt, preset or custom panel, judge, tool budget, web tools, compare; Run and Cancel. */
export function SetupForm(props: Props) {
  const { settings, catalog, onChange } = props;
  const models = catalog?.models ?? [];
  const problem = catalog ? settingsProblem(settings) : "Loading the models…";
  const choosePreset = (slug: string) => {
    const preset = catalog?.presets.find((p) => p.slug === slug);
    onChange(preset ? { preset: slug, models: [...preset.models], judge: preset.judge } : { preset: "" });
  };
  const toggleModel = (model: string, on: boolean) => {
    const chosen = on ? [...settings.models, model] : settings.models.filter((m) => m !== model);
    onChange({ preset: "", models: models.filter((m) => chosen.includes(m)) });
  };
  return (
    <Region id="setup" title="Set-up">
      <form
        class="setup"
        onSubmit={(e) => {
          e.preventDefault();
          if (!problem && !props.running) props.onRun();
        }}
      >
        {props.keyRequired ? (
          <div class="field">
            <label for="api-key">API key</label>
            <input
              id="api-key"
              type="password"
              autoComplete="off"
              spellcheck={false}
              value={props.apiKey}
              onInput={(e) => props.onApiKey(value(e))}
            />
          </div>
        ) : null}
        {props.modelsError ? (
          <p class="notice" data-kind="error">
            {props.modelsError}
          </p>
        ) : null}
        <div class="field">
          <label for="prompt">Prompt</label>
          <textarea
            id="prompt"
            rows={4}
            value={settings.prompt}
            onInput={(e) => onChange({ prompt: value(e) })}
          />
        </div>
        <div class="field">
          <label for="preset">Preset</label>
          <select id="preset" value={settings.preset} onChange={(e) => choosePreset(value(e))}>
            <option value="">Custom panel</option>
            {(catalog?.presets ?? []).map((p) => (
              <option key={p.slug} value={p.slug}>
                {p.slug}: {p.description}
              </option>
            ))}
          </select>
        </div>
        <fieldset class="field models-field">
          <legend>Panel models</legend>
          <p class="muted" id="panel-hint">
            1 to {MAX_PANEL} models; {settings.models.length} chosen.
          </p>
          {models.map((model) => {
            const on = settings.models.includes(model);
            return (
              <label key={model} class="check">
                <input
                  type="checkbox"
                  checked={on}
                  disabled={!on && settings.models.length >= MAX_PANEL}
                  onChange={(e) => toggleModel(model, checked(e))}
                />
                {model}
              </label>
            );
          })}
        </fieldset>
        <div class="field">
          <label for="judge">Judge</label>
          <select
            id="judge"
            value={settings.judge}
            onChange={(e) => onChange({ preset: "", judge: value(e) })}
          >
            {models.map((m) => (
              <option key={m} value={m}>
                {m}
              </option>
            ))}
          </select>
        </div>
        <div class="row">
          <div class="field">
            <label for="max-tool-calls">Max tool calls</label>
            <input
              id="max-tool-calls"
              type="number"
              inputMode="numeric"
              min={TOOL_CALLS.min}
              max={TOOL_CALLS.max}
              step={1}
              value={settings.maxToolCalls}
              onInput={(e) => {
                const n = Number(value(e));
                if (Number.isFinite(n) && n >= TOOL_CALLS.min && n <= TOOL_CALLS.max)
                  onChange({ maxToolCalls: n });
              }}
            />
          </div>
          <label class="check">
            <input
              type="checkbox"
              checked={settings.webTools}
              onChange={(e) => onChange({ webTools: checked(e) })}
            />
            Web tools
          </label>
        </div>
        <label class="check">
          <input
            type="checkbox"
            checked={settings.compare}
            onChange={(e) => onChange({ compare: checked(e) })}
          />
          Compare with a single model
        </label>
        <div class="field">
          <label for="compare-model">Compare model</label>
          <select
            id="compare-model"
            value={settings.compareModel}
            onChange={(e) => onChange({ compareModel: value(e) })}
          >
            {models.map((m) => (
              <option key={m} value={m}>
                {m}
              </option>
            ))}
          </select>
        </div>
        <div class="actions">
          <button type="submit" disabled={props.running || problem !== undefined}>
            Run
          </button>
          <button type="button" class="secondary" disabled={!props.running} onClick={props.onCancel}>
            Cancel
          </button>
        </div>
        {problem && !props.running ? <p class="muted">{problem}</p> : null}
      </form>
    </Region>
  );
}
