/**
 * A controller's state and its subscribers: what the panel's React views read and re-render on. Each
 * controller (detection, SEG export, stored results) extends it and changes its state only through
 * setState.
 */
export class StateStore<State> {
  private readonly listeners = new Set<() => void>();

  constructor(protected state: State) {}

  get current(): State {
    return this.state;
  }

  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  protected setState(state: State): void {
    this.state = state;
    this.listeners.forEach(listener => listener());
  }
}
