import { useCallback, useEffect, useMemo, useRef, useState } from "preact/hooks";
import { type FusionSummary, listFusions } from "./api/fusions.ts";
import { loadModels, type ModelCatalog } from "./api/models.ts";
import { AnalysisSection } from "./components/analysis-section.tsx";
import { AnswerSection } from "./components/answer-section.tsx";
import { CompareSection } from "./components/compare-section.tsx";
import { HistorySection } from "./components/history-section.tsx";
import { PanelSection } from "./components/panel-section.tsx";
import { SetupForm } from "./components/setup-form.tsx";
import { StatusLine } from "./components/status-line.tsx";
import { TimelineSection } from "./components/timeline-section.tsx";
import { FusionRunner } from "./run/fusion-runner.ts";
import { useSessionSaver } from "./run/session-saver.ts";
import { Store, useStore } from "./run/store.ts";
import { loadSession } from "./session/saved-session.ts";
import { defaultSettings, type Settings } from "./settings.ts";
import { type CompareState, idleCompare } from "./state/compare-state.ts";
import { idleView, type ViewState } from "./state/view-state.ts";

const saved = loadSession();
const savedView = saved.view && Array.isArray(saved.view.panel) ? saved.view : idleView;
const viewStore = new Store<ViewState>(savedView);
const compareStore = new Store<CompareState>(saved.compare?.status ? saved.compare : idleCompare);

/** Fills in what the catalog decides: the default panel and judge, a compare model. */
function withCatalog(settings: Settings, catalog: ModelCatalog): Settings {
  const known = settings.models.filter((m) => catalog.models.includes(m));
  const models = known.length ? known : catalog.defaultPanel.filter((m) => catalog.models.includes(m));
  const judge = catalog.models.includes(settings.judge) ? settings.judge : catalog.defaultJudge;
  const compareModel = catalog.models.includes(settings.compareModel) ? settings.compareModel : judge;
  return { ...settings, models, judge, compareModel };
}

export function App() {
  const [apiKey, setApiKey] = useState(saved.apiKey ?? "");
  const [settings, setSettings] = useState<Settings>({ ...defaultSettings, ...saved.settings });
  const [catalog, setCatalog] = useState<ModelCatalog | null>(null);
  const [keyRequired, setKeyRequired] = useState<boolean | null>(null);
  const [modelsError, setModelsError] = useState<string | null>(null);
  const [fusions, setFusions] = useState<FusionSummary[] | null>(null);
  const [historyError, setHistoryError] = useState<string | null>(null);
  const view = useStore(viewStore);
  const compare = useStore(compareStore);
  // The key goes only to a gateway that wants one.
  const keyRef = useRef(apiKey);
  keyRef.current = keyRequired ? apiKey : "";
  const runner = useMemo(() => new FusionRunner(viewStore, compareStore, () => keyRef.current), []);

  useSessionSaver(viewStore, compareStore, apiKey, settings);

  // Whether the gateway wants a key: asked without one, /api/v1/models answers 401. Then the models,
  // with the key when it wants one.
  useEffect(() => {
    let current = true;
    const timer = setTimeout(
      async () => {
        const answer = await loadModels(keyRequired === true ? apiKey : "");
        if (!current) return;
        if (answer.kind === "ok") {
          if (keyRequired === null) setKeyRequired(false);
          setCatalog(answer.catalog);
          setSettings((s) => withCatalog(s, answer.catalog));
          setModelsError(null);
        } else if (answer.kind === "unauthorized") {
          if (keyRequired === null) setKeyRequired(true);
          else
            setModelsError(apiKey ? "The gateway refused this API key." : "This gateway needs an API key.");
        } else setModelsError(`Could not load the models: ${answer.message}`);
      },
      keyRequired ? 300 : 0,
    );
    return () => {
      current = false;
      clearTimeout(timer);
    };
  }, [apiKey, keyRequired]);

  const refreshHistory = useCallback(async () => {
    try {
      setFusions(await listFusions(keyRef.current));
      setHistoryError(null);
    } catch (err) {
      setHistoryError(`Could not load the history: ${err instanceof Error ? err.message : String(err)}`);
    }
  }, []);

  // The history, once the models answered (so the key works), and again when a run ends.
  useEffect(() => {
    if (catalog && view.status !== "running") void refreshHistory();
  }, [catalog, view.status, refreshHistory]);

  // A fusion that was running when the page was reloaded: reattach after its last applied event, once
  // it is known whether the key goes with the request.
  const resumed = useRef(false);
  useEffect(() => {
    if (keyRequired === null || resumed.current) return;
    resumed.current = true;
    runner.resume();
  }, [keyRequired, runner]);

  const running = view.status === "running";
  return (
    <>
      <header class="top">
        <h1>Fusion lab</h1>
        <StatusLine view={view} />
      </header>
      <main class="layout">
        <div class="side">
          <SetupForm
            settings={settings}
            onChange={(patch) => setSettings((s) => ({ ...s, ...patch }))}
            catalog={catalog}
            keyRequired={keyRequired === true}
            apiKey={apiKey}
            onApiKey={setApiKey}
            modelsError={modelsError}
            running={running}
            onRun={() => catalog && runner.run(settings, catalog.alias)}
            onCancel={() => void runner.cancel()}
          />
          <HistorySection
            fusions={fusions}
            error={historyError}
            currentId={view.fusionId}
            onRefresh={() => void refreshHistory()}
            onOpen={(f) => runner.replay(f)}
          />
        </div>
        <div class="content">
          <PanelSection view={view} />
          <AnalysisSection view={view} />
          <div class="answers">
            <AnswerSection view={view} />
            <CompareSection compare={compare} view={view} />
          </div>
          <TimelineSection view={view} />
        </div>
      </main>
    </>
  );
}
