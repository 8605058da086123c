/**
 * Signature generation on hostile crashes. An input is either a processed crash as JSON
 * (it starts with `{`; `signatureInputFromCrash` must cope with any shape), or Breakpad's
 * machine-readable stack text (`thread|frame|module|function|file|line|offset` lines and
 * `Crash|reason|address|thread`), plus `key=value` lines for the processed fields that
 * change signatures (`abort_message`, `oom_allocation_size`, `report_type`, ...).
 *
 * Contract (src/signature/generator.ts): never throws; a signature is always produced,
 * non-empty, printable, without leading, trailing or doubled spaces, at most 255
 * characters; the same crash gives the same signature.
 */
import { readFileSync } from 'node:fs';
import { loadSignatureLists } from '../../../src/roles/processor/signature-rule.js';
import { SIGNATURE_MAX_LENGTH, fixSignatureWhitespace, generateSignature, signatureInputFromCrash } from '../../../src/signature/index.js';
import { corpusFiles } from '../corpus.js';
import { invariant, type FuzzTarget } from '../target.js';

const lists = loadSignatureLists();
const decoder = new TextDecoder();
const encoder = new TextEncoder();

/** The fields `key=value` lines may set on the processed crash. */
const NUMERIC_FIELDS = new Set(['oom_allocation_size', 'crashing_thread']);

/** Breakpad's `-m` text (and `key=value` lines) as the processed crash it describes. */
function crashFromText(text: string): Record<string, unknown> {
  const threads: { frames: Record<string, unknown>[] }[] = [];
  const crash: Record<string, unknown> = {};
  const crashInfo: Record<string, unknown> = {};
  for (const line of text.split('\n')) {
    const eq = line.indexOf('=');
    if (eq > 0 && !line.includes('|')) {
      const key = line.slice(0, eq);
      const value = line.slice(eq + 1);
      crash[key] = NUMERIC_FIELDS.has(key) && /^\d+$/.test(value) ? Number(value) : value;
      continue;
    }
    const fields = line.split('|');
    if (fields[0] === 'Crash') {
      crashInfo.type = fields[1];
      crashInfo.address = fields[2];
      if (/^\d+$/.test(fields[3] ?? '')) crashInfo.crashing_thread = Number(fields[3]);
      continue;
    }
    if (!/^\d+$/.test(fields[0]) || !/^\d+$/.test(fields[1] ?? '')) continue;
    const thread = Number(fields[0]);
    if (thread > 64) continue;
    while (threads.length <= thread) threads.push({ frames: [] });
    const [, , module, fn, file, lineNumber, offset] = fields;
    threads[thread].frames.push({
      frame: Number(fields[1]),
      module: module || undefined,
      function: fn || undefined,
      file: file || undefined,
      line: lineNumber ? Number(lineNumber) : undefined,
      module_offset: offset,
      offset,
      trust: 'cfi',
    });
  }
  return { ...crash, json_dump: { crash_info: crashInfo, threads } };
}

function crashOf(input: Uint8Array): unknown {
  const text = decoder.decode(input);
  if (text.startsWith('{')) {
    try {
      return JSON.parse(text);
    } catch {
      // Not JSON after all: read it as text.
    }
  }
  return crashFromText(text);
}

function seeds(): Uint8Array[] {
  const texts = corpusFiles('.breakpad-m.txt', 256 * 1024).map((path) =>
    readFileSync(path, 'utf8')
      .split('\n')
      .filter((line) => !line.startsWith('Module|'))
      .slice(0, 80)
      .join('\n'),
  );
  const fieldLines = ['abort_message=assertion failed: x != nullptr', 'oom_allocation_size=1048576', 'report_type=hang', 'mdsw_status_string=ERROR_NO_MINIDUMP_HEADER', 'crashing_thread=1'];
  const withFields = texts.slice(0, fieldLines.length).map((t, i) => `${t}\n${fieldLines[i]}`);
  const json = texts.slice(0, 6).map((t) => JSON.stringify(crashFromText(t)));
  const handMade = [
    '{"crashing_thread":0,"json_dump":{"threads":[{"frames":[{"function":"std::__1::vector<int, std::__1::allocator<int> >::operator[](unsigned long) const","module":"libc++","inlines":[{"function":"(anonymous namespace)::Foo<Bar>::baz<int>(int)","file":"a.cc","line":3}]},{"function":"<lambda_1>::operator()","file":"hg:hg.mozilla.org/mozilla-central:js/src/a.cpp:abc"}]}]}}',
    '{"json_dump":{"crash_info":{"type":"EXCEPTION_STACK_OVERFLOW","crashing_thread":"0"},"crashing_thread":{"threads_index":0,"registers":{"rsp":"0x1000","rip":"0x2000"},"frames":[{"module":"x.dll","module_offset":"0x10"}]},"threads":[]}}',
    '{"crashing_thread":null,"mdsw_status_string":"ERROR_NO_THREAD_LIST","json_dump":{}}',
    '0|0|libxul.so|mozalloc_abort(char const*)|memory/mozalloc/mozalloc_abort.cpp|33|0x1\n0|1|libxul.so|NS_DebugBreak|||0x2\n0|2|libxul.so|core::panicking::panic_fmt::h1234567890abcdef|||0x3\nCrash|SIGABRT|0x0|0\nabort_message=[@ core::option::expect_failed]',
  ];
  return [...texts, ...withFields, ...json, ...handMade].map((t) => encoder.encode(t));
}

export const target: FuzzTarget = {
  name: 'signature',
  // Enough for 40 frames (all that signature generation looks at) and a few fields.
  maxLength: 6 * 1024,
  text: true,
  dictionary: [
    '|',
    '::',
    '<',
    '>',
    '(',
    ')',
    ' const',
    'operator',
    'operator()',
    'operator<<',
    '(anonymous namespace)',
    '<lambda_1>',
    '`anonymous namespace\'',
    'std::',
    'core::panicking::',
    '::h0123456789abcdef',
    '<T as core::fmt::Debug>::fmt',
    '@0x',
    '0x',
    'Crash|',
    'EXCEPTION_STACK_OVERFLOW',
    'SIGSEGV /SEGV_MAPERR',
    'abort_message=',
    'oom_allocation_size=',
    'report_type=hang',
    'mdsw_status_string=',
    'crashing_thread=',
    'mozalloc_abort',
    'abort',
    'RtlpWaitOnCriticalSection',
    'hg:hg.mozilla.org/',
    '"function":"',
    '"inlines":[',
    '"threads":[',
    '"frames":[',
    '"crashing_thread":',
    '\u0000',
    '\u200b',
    '\ud83d\ude00',
  ],
  seeds,
  execute(input) {
    const crash = crashOf(input);
    const result = generateSignature(signatureInputFromCrash(crash), lists);
    const { signature } = result;
    invariant(typeof signature === 'string' && signature.length > 0, 'an empty signature');
    invariant([...signature].length <= SIGNATURE_MAX_LENGTH, () => `a signature of ${[...signature].length} characters`);
    invariant(fixSignatureWhitespace(signature) === signature, () => `a signature with unprintable characters or stray spaces: ${JSON.stringify(signature)}`);
    invariant(typeof result.protoSignature === 'string' && result.debug.every((d) => typeof d === 'string'), 'proto signature or debug lines are not text');
    const again = generateSignature(signatureInputFromCrash(crash), lists);
    invariant(again.signature === signature, 'the same crash gave two signatures');
  },
};
