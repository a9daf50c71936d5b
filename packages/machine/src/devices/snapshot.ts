/**
 * A device whose state can be saved and restored: `state()` returns plain, JSON-serializable
 * data; `fromState()` on a freshly built device (same construction options) makes it continue
 * exactly as the original would have. Restoring re-drives the device's output lines to their
 * saved levels.
 */
export interface Snapshottable<S> {
  /** A plain-data snapshot of the device. */
  state(): S;
  /** Restores a snapshot taken by `state()`. */
  fromState(state: S): void;
}
