/**
 * A refusal in Antenna's style: the client sees `Discarded=<reason>` and a line saying
 * why. 400 refusals of malformed input are `malformed_<what>`; size limits are 413; a
 * throttle rejection is a 200 (so that clients do not retry it forever).
 */
export class SubmissionRefused extends Error {
  constructor(
    readonly statusCode: number,
    readonly reason: string,
    message: string,
  ) {
    super(message);
    this.name = 'SubmissionRefused';
  }
}

export const malformed = (what: string, message: string): SubmissionRefused => new SubmissionRefused(400, `malformed_${what}`, message);
export const tooLarge = (what: string, message: string): SubmissionRefused => new SubmissionRefused(413, what, message);
