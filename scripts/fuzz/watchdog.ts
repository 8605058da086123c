/**
 * What the fuzzing worker and its watchdog share: a `SharedArrayBuffer` holding the input
 * being executed. The worker writes it before each execution; when the worker stops
 * finishing inputs (a hang, synchronous or not), the main thread reads it from there,
 * ends the worker, and reports that input.
 */

const HEADER_INTS = 4;
const SEQUENCE = 0;
const RUNNING = 1;
const LENGTH = 2;

export class SharedInput {
  private readonly header: Int32Array;
  private readonly bytes: Uint8Array;

  constructor(readonly buffer: SharedArrayBuffer) {
    this.header = new Int32Array(buffer, 0, HEADER_INTS);
    this.bytes = new Uint8Array(buffer, HEADER_INTS * 4);
  }

  static create(maxLength: number): SharedInput {
    return new SharedInput(new SharedArrayBuffer(HEADER_INTS * 4 + maxLength));
  }

  /** Worker side: an execution of `input` starts. */
  begin(input: Uint8Array): void {
    const n = Math.min(input.length, this.bytes.length);
    this.bytes.set(input.subarray(0, n));
    Atomics.store(this.header, LENGTH, n);
    Atomics.add(this.header, SEQUENCE, 1);
    Atomics.store(this.header, RUNNING, 1);
  }

  /** Worker side: it ended. */
  end(): void {
    Atomics.store(this.header, RUNNING, 0);
  }

  /** Watchdog side: which execution is running, if any. */
  running(): number | undefined {
    return Atomics.load(this.header, RUNNING) === 1 ? Atomics.load(this.header, SEQUENCE) : undefined;
  }

  /** Watchdog side: a copy of the input of the running execution. */
  input(): Uint8Array {
    return this.bytes.slice(0, Atomics.load(this.header, LENGTH));
  }
}
