/**
 * The calls of MLflow's REST API (`/api/2.0/mlflow`) the controller makes. Written here rather
 * than taken from a library: MLflow publishes no JavaScript client, and these are a handful of
 * JSON requests whose shapes MLflow's REST API reference fixes.
 */

/** A run's end as MLflow records it. */
export type MlflowRunStatus = 'RUNNING' | 'FINISHED' | 'FAILED' | 'KILLED';

export interface MlflowTag {
  readonly key: string;
  readonly value: string;
}

/** What the tracking server answered with an error, or why it did not answer. */
export class TrackingServerError extends Error {
  constructor(
    message: string,
    /** MLflow's error code (RESOURCE_DOES_NOT_EXIST, ...), where the server answered with one. */
    readonly code?: string,
  ) {
    super(message);
  }
}

interface Experiment {
  readonly experiment_id: string;
  readonly lifecycle_stage?: string;
  readonly artifact_location?: string;
}

/**
 * Each request has its own deadline: the tracking server is called from reconciles, and one that
 * hangs must not hold a worker.
 */
const REQUEST_TIMEOUT_MS = 5000;

export class MlflowClient {
  constructor(
    /** The server's base URL, e.g. `http://tracking.plinth.svc:5000`. */
    private readonly baseUrl: string,
    private readonly timeoutMs = REQUEST_TIMEOUT_MS,
  ) {}

  private async call<T>(method: 'GET' | 'POST', path: string, body: Record<string, unknown>): Promise<T> {
    const url = new URL(`/api/2.0/mlflow/${path}`, this.baseUrl);
    if (method === 'GET') for (const [k, v] of Object.entries(body)) url.searchParams.set(k, String(v));
    let response: Response;
    try {
      response = await fetch(url, {
        method,
        headers: method === 'POST' ? { 'content-type': 'application/json' } : {},
        body: method === 'POST' ? JSON.stringify(body) : undefined,
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (error) {
      const cause = (error as { cause?: { code?: string } }).cause?.code;
      throw new TrackingServerError(`${this.baseUrl} did not answer ${path}: ${cause ?? (error as Error).message}`);
    }
    const text = await response.text();
    if (!response.ok) {
      let answer: { error_code?: string; message?: string } = {};
      try {
        answer = JSON.parse(text) as typeof answer;
      } catch {
        // Not MLflow's JSON error (a proxy's page, say): the status and text say what happened.
      }
      throw new TrackingServerError(
        `${path} answered ${response.status}: ${answer.message ?? text.slice(0, 200)}`,
        answer.error_code,
      );
    }
    return JSON.parse(text) as T;
  }

  /** The experiment of that name, or undefined if there is none. */
  async experimentByName(name: string): Promise<Experiment | undefined> {
    try {
      const { experiment } = await this.call<{ experiment: Experiment }>('GET', 'experiments/get-by-name', {
        experiment_name: name,
      });
      return experiment;
    } catch (error) {
      if (error instanceof TrackingServerError && error.code === 'RESOURCE_DOES_NOT_EXIST') return undefined;
      throw error;
    }
  }

  async createExperiment(name: string, artifactLocation: string, tags: readonly MlflowTag[]): Promise<string> {
    const { experiment_id } = await this.call<{ experiment_id: string }>('POST', 'experiments/create', {
      name,
      artifact_location: artifactLocation,
      tags,
    });
    return experiment_id;
  }

  /** Brings a deleted experiment back: MLflow makes no run in one. */
  async restoreExperiment(experimentId: string): Promise<void> {
    await this.call('POST', 'experiments/restore', { experiment_id: experimentId });
  }

  /** The id of a run of the experiment that has the tag, if one has. */
  async runWithTag(experimentId: string, tag: MlflowTag): Promise<string | undefined> {
    const { runs } = await this.call<{ runs?: { info: { run_id: string } }[] }>('POST', 'runs/search', {
      experiment_ids: [experimentId],
      // Backquotes let a tag key hold dots and slashes; the value is a Kubernetes uid, with no quote.
      filter: `tags.\`${tag.key}\` = '${tag.value}'`,
      max_results: 1,
    });
    return runs?.[0]?.info.run_id;
  }

  async createRun(run: {
    experimentId: string;
    name: string;
    startTime: number;
    tags: readonly MlflowTag[];
  }): Promise<string> {
    const answer = await this.call<{ run: { info: { run_id: string } } }>('POST', 'runs/create', {
      experiment_id: run.experimentId,
      run_name: run.name,
      start_time: run.startTime,
      tags: run.tags,
    });
    return answer.run.info.run_id;
  }

  async logBatch(runId: string, batch: { params: readonly MlflowTag[]; tags: readonly MlflowTag[] }): Promise<void> {
    await this.call('POST', 'runs/log-batch', { run_id: runId, params: batch.params, tags: batch.tags });
  }

  async endRun(runId: string, status: MlflowRunStatus, endTime: number): Promise<void> {
    await this.call('POST', 'runs/update', { run_id: runId, status, end_time: endTime });
  }

  /** The run's status and params, as the tests read them back. */
  async getRun(runId: string): Promise<{
    info: { status: MlflowRunStatus; experiment_id: string; run_name?: string };
    data: { params?: MlflowTag[]; tags?: MlflowTag[]; metrics?: { key: string; value: number }[] };
  }> {
    const { run } = await this.call<{ run: Awaited<ReturnType<MlflowClient['getRun']>> }>('GET', 'runs/get', {
      run_id: runId,
    });
    return run;
  }
}
