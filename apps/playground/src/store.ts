import type { PlanDraft, PlanTarget } from './plan-model.ts';

/** The image the next question is about: its bytes (decoded in the worker) and where it came from. */
export interface PageImage {
  blob: Blob;
  label: string;
}

export interface AppState {
  target: PlanTarget | null;
  draft: PlanDraft;
  image: PageImage | null;
  /** What the engine is doing; the page runs one job at a time. */
  busy: 'loading' | 'running' | 'calibrating' | null;
}

type Listener = (state: AppState, previous: AppState) => void;

/** The page's state: sections read it and update it; every change reaches every section. */
export class Store {
  private current: AppState = { target: null, draft: { frozen: [], lc: null }, image: null, busy: 'loading' };
  private readonly listeners: Listener[] = [];

  get state(): AppState {
    return this.current;
  }

  update(patch: Partial<AppState>): void {
    const previous = this.current;
    this.current = { ...previous, ...patch };
    for (const listener of this.listeners) listener(this.current, previous);
  }

  subscribe(listener: Listener): void {
    this.listeners.push(listener);
    listener(this.current, this.current);
  }
}
