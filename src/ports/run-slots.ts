/**
 * The per-tenant cap on runs in flight (admitted and not yet ended), across every instance that
 * shares it. A slot belongs to a run: it is held from admission until the run ends, whichever
 * worker executes it.
 */
export interface RunSlots {
  /**
   * Takes a slot for `runId` unless the tenant's runs hold `cap` already; true when the run holds
   * one (taking it again for a run that holds one already is true and changes nothing).
   */
  acquire(tenantId: string, runId: string, cap: number): Promise<boolean>;
  /** Gives the run's slot back; unknown runs are ignored. */
  release(tenantId: string, runId: string): Promise<void>;
  /** Slots the tenant's runs hold now. */
  held(tenantId: string): Promise<number>;
}
