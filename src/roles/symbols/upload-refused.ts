/** An upload refused for a reason the client should see (status code and message). */
export class UploadRefused extends Error {
  constructor(
    readonly statusCode: 400 | 401 | 403 | 411 | 413 | 415,
    message: string,
  ) {
    super(message);
  }
}

/** Limits of one upload request. */
export interface UploadLimits {
  /** Largest request body (a zip as sent, or a multipart body). */
  readonly maxUploadBytes: number;
  /** Largest total of the files an upload expands to (zip bomb guard). */
  readonly maxUncompressedBytes: number;
  /** Most files in one upload. */
  readonly maxFiles: number;
}
