/**
 * `mayday signature (CRASH.json | --frames F1 F2 ...) [--debug] [--lists DIR]`
 *
 * Prints the signature Mayday gives a crash: for a processed crash (a JSON file with
 * `json_dump`, as `/api/ProcessedCrash/` returns it), a stackwalker document
 * (`mayday stackwalk --json`), or a list of frames typed on the command line. With
 * `--debug`, also the proto signature and the frame-by-frame explanation, which is what
 * one needs when editing the signature lists; `--lists DIR` tries edited lists (files of
 * DIR override the defaults one by one).
 *
 * A frame given with `--frames` is a function name, `module@0xoffset` (no symbols) or
 * `@0xaddress` (no module), top of the stack first.
 */
import { readFile } from 'node:fs/promises';
import { UserError } from '../../common/errors.js';
import { loadSignatureLists } from '../../roles/processor/signature-rule.js';
import { generateSignature, signatureInputFromCrash, SignatureListError, type SignatureInput, type StackFrameInput } from '../../signature/index.js';

export interface SignatureCommandOptions {
  readonly frames?: string[];
  readonly debug?: boolean;
  readonly lists?: string;
}

/** A command-line frame: `module@0xoffset`, `@0xaddress`, or a function name. */
export function frameFromArgument(argument: string): StackFrameInput {
  const address = /^@(0x[0-9a-f]+)$/i.exec(argument);
  if (address) return { offset: address[1] };
  const inModule = /^([^\s@]+)@(0x[0-9a-f]+)$/i.exec(argument);
  if (inModule) return { module: inModule[1], module_offset: inModule[2] };
  return { function: argument };
}

async function inputFromFile(path: string): Promise<SignatureInput> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new UserError(`${path}: ${(error as Error).message}`);
  }
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch (error) {
    throw new UserError(`${path}: not JSON: ${(error as Error).message}`);
  }
  if (typeof document !== 'object' || document === null || Array.isArray(document)) throw new UserError(`${path}: not a processed crash or stackwalker document (a JSON object)`);
  return signatureInputFromCrash(document);
}

/** Runs the command; answers the exit code (0, or 2 for a usage or input problem). */
export async function runSignature(
  crashFile: string | undefined,
  options: SignatureCommandOptions,
  out: (text: string) => void,
  err: (text: string) => void,
): Promise<number> {
  try {
    const frames = options.frames ?? [];
    if ((crashFile === undefined) === (frames.length === 0)) throw new UserError('give either a CRASH.json file or --frames F1 F2 ..., not both');
    let lists;
    try {
      lists = loadSignatureLists(options.lists);
    } catch (error) {
      if (error instanceof SignatureListError) throw new UserError(error.message);
      throw error;
    }
    const input: SignatureInput = crashFile !== undefined ? await inputFromFile(crashFile) : { crashingThread: 0, frames: frames.map(frameFromArgument) };
    const result = generateSignature(input, lists);
    out(`${result.signature}\n`);
    if (options.debug) {
      out(`\nproto signature: ${result.protoSignature}\n\nhow:\n`);
      for (const line of result.debug) out(`  ${line}\n`);
      if (result.notes.length > 0) {
        out('\nnotes:\n');
        for (const note of result.notes) out(`  ${note}\n`);
      }
    }
    return 0;
  } catch (error) {
    if (error instanceof UserError) {
      err(`${error.message}\n`);
      return 2;
    }
    throw error;
  }
}
