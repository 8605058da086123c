/**
 * Collects what was wrong with a dump while reading continues. Every message names the
 * stream (or part) it concerns, so a partial result can be explained to a user.
 */
export class Problems {
  readonly list: string[] = [];

  report(where: string, message: string): void {
    // A hostile dump could otherwise make us build millions of messages.
    if (this.list.length < MAX_PROBLEMS) this.list.push(`${where}: ${message}`);
    else if (this.list.length === MAX_PROBLEMS) this.list.push('too many problems; further ones omitted');
  }
}

const MAX_PROBLEMS = 1000;
