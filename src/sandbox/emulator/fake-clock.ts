/**
 * A clock that only moves when something sleeps or is told to advance: waits are recorded, never
 * slept. The notifier tests use it for retries and the rate gate; the demo runs its whole
 * accelerated timeline on it.
 */
export class FakeClock {
  readonly sleeps: number[] = [];
  constructor(private nowMs: number = Date.parse('2026-11-20T03:20:00.000Z')) {}
  readonly now = (): number => this.nowMs;
  readonly date = (): Date => new Date(this.nowMs);
  readonly sleep = async (ms: number): Promise<void> => {
    this.sleeps.push(ms);
    this.nowMs += ms;
  };
  advance(ms: number): void {
    this.nowMs += ms;
  }
}
