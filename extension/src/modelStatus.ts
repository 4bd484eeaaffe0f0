import {
  readModelAvailability,
  type FetchFunction,
  type ModelAvailability,
} from './core/modelAvailability';

type Listener = (availability: ModelAvailability) => void;

/** The model availability the panel shows and the detect command checks, read once per session. */
export class ModelStatus {
  private availability: ModelAvailability = { state: 'checking' };
  private readonly listeners = new Set<Listener>();
  private pending: Promise<ModelAvailability> | undefined;

  constructor(
    readonly modelsUrl: string,
    private readonly fetchFunction: FetchFunction
  ) {}

  get current(): ModelAvailability {
    return this.availability;
  }

  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Resolves once the model card has been read; later calls share the first read. */
  check(): Promise<ModelAvailability> {
    this.pending ??= readModelAvailability(this.modelsUrl, this.fetchFunction).then(
      availability => {
        this.availability = availability;
        this.listeners.forEach(listener => listener(availability));
        return availability;
      }
    );
    return this.pending;
  }
}
