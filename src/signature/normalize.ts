/**
 * Frame normalisation: one frame of the stackwalker document becomes the short, stable
 * text a signature is made of. What changes between builds, compilers and call sites
 * without changing the bug goes: argument lists, template arguments, return types,
 * compiler clone suffixes, lambda numbers, Rust symbol hashes. Modelled on Socorro's
 * `CSignatureTool.normalize_frame`.
 */
import { replaceEnclosed, splitTopLevelSpaces } from './enclosed.js';
import type { SignatureList } from './lists.js';

/** A frame as the stackwalker's JSON document holds it (`json_dump.threads[n].frames[]`). */
export interface StackFrameInput {
  module?: string | null;
  function?: string | null;
  file?: string | null;
  line?: number | null;
  module_offset?: string | null;
  offset?: string | null;
  trust?: string | null;
  /** Inlined calls at this address, innermost first (see `docs/stackwalk-json.md`). */
  inlines?: readonly { function?: string | null; file?: string | null; line?: number | null }[] | null;
  /**
   * For a frame in no loaded module: the unloaded modules that covered its address, by name,
   * each with the address's offsets in it (rust-minidump's and Mayday's `json_dump`).
   */
  unloaded_modules?: readonly { module?: string | null; offsets?: readonly string[] | null }[] | null;
  /**
   * The symbol file had no function record here, and the `function` is the nearest exported
   * (PUBLIC) symbol below the address although the address lies in another, unexported
   * function (its unwind record starts after that symbol). The name is wrong; the signature
   * uses `module@offset` instead.
   */
  function_is_nearest_export?: boolean | null;
}

/**
 * How a normalised frame was made: which fallback its text comes from. `unloaded` is a frame
 * in a module that had been unloaded: `(unloaded name@offset)`, as Socorro writes it.
 */
export type FrameKind = 'function' | 'file-line' | 'module-offset' | 'unloaded' | 'address';

export interface NormalizedFrame {
  /** The normalised text: `crash_null_deref`, `crasher.cc#14`, `libc.so.6@0x8aeec`, `(unloaded a.dll@0x10)`, `@0x1234`. */
  readonly text: string;
  readonly kind: FrameKind;
  /** Module name as used in the text (lower-cased for Windows modules), when known. */
  readonly module?: string;
  /** Whether this is an inlined call rather than the physical frame. */
  readonly inline: boolean;
}

/** Whitespace runs (tabs, newlines...) as one space, trimmed. */
export function fixWhitespace(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

/**
 * `0x0000000000001234` → `0x1234`: addresses are zero-padded to the pointer width in the
 * document, which would make the same location read differently on x86 and amd64.
 */
export function stripLeadingZeros(hex: string): string {
  const m = /^0x0*([0-9a-f]+)$/i.exec(hex.trim());
  return m ? `0x${m[1].toLowerCase()}` : hex.trim();
}

/**
 * The path part of a source file, without version-control decoration
 * (`hg:hg.mozilla.org/repo:js/src/jit/MIR.h:755067c14b06` → `js/src/jit/MIR.h`,
 * `git:github.com/org/repo:src/lib.rs:abc123` → `src/lib.rs`).
 */
export function sourcePath(file: string): string {
  const parts = file.split(':');
  if (parts.length === 4 && /^[a-z0-9]+$/i.test(parts[0])) return parts[2];
  return file;
}

function baseName(path: string): string {
  const trimmed = path.replace(/[\\/]+$/, '');
  return trimmed.slice(Math.max(trimmed.lastIndexOf('/'), trimmed.lastIndexOf('\\')) + 1);
}

/** Windows file names are case-insensitive; `NTDLL.DLL` and `ntdll.dll` are one module. */
function moduleName(module: string): string {
  return /\.(dll|exe|sys|drv|ocx|cpl)$/i.test(module) ? module.toLowerCase() : module;
}

const RUST_HASH = /::h[0-9a-f]{16}$/i;

/**
 * Rust frames: from a `.rs` source file, or (symbols without line records) carrying a
 * legacy-mangling hash or a construct only Rust demangles to (closures, shims, `<impl`).
 */
export function isRustFrame(func: string, file: string | null | undefined): boolean {
  if (file !== null && file !== undefined && sourcePath(file).endsWith('.rs')) return true;
  return RUST_HASH.test(func) || /\{\{closure\}\}|\{closure#\d+\}|\{shim:|^<impl |::<impl /.test(func);
}

/**
 * Compiler clone suffixes, in both spellings: demangled `foo(int) [clone .cold]`,
 * `[clone .isra.0]`, `[clone .constprop.3]`, and symbol-table `main.cold`, `foo.part.0`,
 * `bar.lto_priv.0`, `baz.llvm.1234`. They name the same source function.
 */
export function dropCloneSuffixes(func: string): string {
  return func
    .replace(/\s*\[clone [^\]]*\]/g, '')
    .replace(/(?:\.(?:cold|isra|constprop|part|lto_priv|localalias|llvm|specialized|clone)(?:\.\d+)*)+$/, '');
}

/** One trailing member qualifier: after `)` or a space, `const`, `volatile`, `noexcept`, each maybe with `&`/`&&`, or `&`/`&&` alone. */
const TRAILING_QUALIFIER = /(?:(?<=\))\s*|\s+)(?:(?:const|volatile|noexcept)(?:\s*&&?)?|&&?)$/;

/**
 * Member function qualifiers, as Socorro drops them: `foo() const &&` → `foo()`, and on
 * names written without an argument list too (`JSObject::allocKindForTenure const` →
 * `JSObject::allocKindForTenure`, `Foo::bar const&`). Not the `&` of `operator&`.
 */
export function dropQualifiers(func: string): string {
  let f = func;
  for (;;) {
    const m = TRAILING_QUALIFIER.exec(f);
    if (!m) return f;
    const rest = f.slice(0, m.index);
    if (/operator\s*$/.test(rest) || rest.trim() === '') return f;
    f = rest.trimEnd();
  }
}

/**
 * Lambdas get compiler-chosen numbers that shift whenever another lambda is added to the
 * function: clang `$_12`, GCC `{lambda(int)#2}`, MSVC `<lambda_9f2c...>`.
 */
function normalizeLambdas(func: string): string {
  return func
    .replace(/\$_\d+/g, '$')
    .replace(/\{lambda\((?:[^(){}]|\([^()]*\))*\)#\d+\}/g, '{lambda}')
    .replace(/<lambda_[0-9a-f]+>/gi, '<lambda>');
}

/**
 * Drops storage class and return type: `static void* Allocator<A>::malloc(size_t)` →
 * `Allocator<A>::malloc(size_t)`. The name is the last space-separated token outside
 * brackets, rejoined with pieces the split tore off: an argument list written after a
 * space (`foo (int)`), operator names (`operator new`, `Foo::operator bool`) and their
 * template arguments (`std::operator<< <char>`).
 */
export function dropPrefixAndReturnType(func: string): string {
  const tokens = splitTopLevelSpaces(func);
  while (tokens.length > 1) {
    const last = tokens[tokens.length - 1];
    const previous = tokens[tokens.length - 2];
    const argumentsAfterSpace = last.startsWith('(') && !last.startsWith('(anonymous namespace)');
    // GCC writes template arguments of operators after a space: `std::operator<< <char>`.
    const operatorTemplate = last.startsWith('<') && /operator\S*$/.test(previous);
    if (!argumentsAfterSpace && !operatorTemplate && !/operator$/.test(previous)) break;
    tokens.splice(tokens.length - 2, 2, `${previous} ${last}`);
  }
  return tokens[tokens.length - 1] ?? '';
}

/**
 * C++ template arguments as `<T>`, as Socorro collapses them. Kept as written:
 * `<name omitted>`, `<unknown in foo.dll>` (anything with `name omitted` or ` in `) and
 * `<lambda>`. The arguments of `IPC::ParamTraits<...>` keep their brackets with their own
 * arguments collapsed (`IPC::ParamTraits<nsTSubstring<T> >`): which type is serialised is
 * the point of those frames.
 */
export function collapseTemplateArguments(func: string): string {
  return replaceEnclosed(func, '<', '>', (before, inside) => {
    if (inside.includes('name omitted') || inside === '<lambda>' || inside.includes(' in ')) return inside;
    if (before.endsWith('IPC::ParamTraits')) {
      const inner = inside.endsWith('>') ? inside.slice(1, -1) : inside.slice(1);
      return `<${collapseTemplateArguments(inner)}${inside.endsWith('>') ? '>' : ''}`;
    }
    return '<T>';
  });
}

/**
 * Rust generic arguments as `<T>`, except a qualified path `<Type as Trait>`, kept exactly
 * as written, generics and all (`<alloc::vec::Vec<T,A> as core::ops::drop::Drop>`): it
 * names which trait implementation runs. Socorro's rule; `<impl Trait for Type>` blocks are
 * collapsed like any other generic.
 */
export function collapseRustGenerics(func: string): string {
  return replaceEnclosed(func, '<', '>', (before, inside) => (inside.includes(' as ') || before.endsWith(' as ') ? inside : '<T>'));
}

/** Argument lists dropped; `(anonymous namespace)` and the `()` of `operator()` stay. */
export function collapseArguments(func: string): string {
  return replaceEnclosed(func, '(', ')', (before, inside) => {
    if (inside === '(anonymous namespace)' || /operator\s*$/.test(before)) return inside;
    return '';
  });
}

/** No space before a comma, one after. */
function fixCommaSpaces(func: string): string {
  return func.replace(/ +(?=,)/g, '').replace(/,(?! )/g, ', ');
}

/**
 * Pointer and reference declarators hug their type (`char const*`), as demanglers disagree
 * on the space; Socorro does this for C++ and Rust alike.
 */
function fixPointerSpaces(func: string): string {
  return func.replace(/ +(?=[*&])/g, '');
}

/**
 * Rust closures: v0 demangling numbers them (`{closure#1}`), legacy demangling does not
 * (`{{closure}}`); both become `{closure}`, so the number, which shifts when a closure is
 * added, and the demangler do not split a signature.
 */
function normalizeClosures(func: string): string {
  return func.replace(/\{\{closure\}\}|\{closure#\d+\}/g, '{closure}');
}

/**
 * Normalises a C or C++ function name. A name with `::operator` keeps everything before
 * it, as in Socorro, which never drops a "return type" there: a conversion operator's
 * type is its name (`JS::Heap<JSObject*>::operator JSObject* const &()` →
 * `JS::Heap<T>::operator JSObject* const&`).
 */
export function normalizeCppFunction(func: string): string {
  let f = dropCloneSuffixes(fixWhitespace(func));
  f = dropQualifiers(f);
  f = f.replace(/`anonymous namespace'/g, '(anonymous namespace)').replace(/\{anonymous\}/g, '(anonymous namespace)');
  if (!f.includes('::operator')) f = dropPrefixAndReturnType(f);
  f = normalizeLambdas(f);
  f = collapseTemplateArguments(f);
  f = collapseArguments(f);
  return fixWhitespace(fixCommaSpaces(fixPointerSpaces(f)));
}

/**
 * Normalises a Rust function name as Socorro does (return type dropped, generics collapsed
 * except `<Type as Trait>`, arguments dropped, hash dropped), plus Mayday's own: clone
 * suffixes dropped, closures unnumbered.
 */
export function normalizeRustFunction(func: string): string {
  let f = dropCloneSuffixes(fixWhitespace(func)).replace(RUST_HASH, '');
  f = dropPrefixAndReturnType(f);
  f = collapseRustGenerics(f);
  f = collapseArguments(normalizeClosures(f));
  return fixWhitespace(fixCommaSpaces(fixPointerSpaces(f)));
}

/**
 * Rust 1.34's symbol files name a few panic functions without their module (`panic`,
 * `begin_panic_fmt`); their source file says which they are. Socorro restores the full
 * path (`fix_missing_module`) so that the lists, written for full paths, match them.
 */
const RUST_134_FUNCTIONS: ReadonlyMap<string, string> = new Map([
  ['src/liballoc/raw_vec.rs capacity_overflow', 'alloc::raw_vec::capacity_overflow'],
  ['src/libcore/option.rs expect_failed', 'core::option::expect_failed'],
  ['src/libcore/panicking.rs panic_bounds_check', 'core::panicking::panic_bounds_check'],
  ['src/libcore/panicking.rs panic_fmt', 'core::panicking::panic_fmt'],
  ['src/libcore/panicking.rs panic', 'core::panicking::panic'],
  ['src/libcore/slice/mod.rs slice_index_order_fail', 'core::slice::slice_index_order_fail'],
  ['src/libstd/panicking.rs begin_panic_fmt', 'std::panicking::begin_panic_fmt'],
  ['src/libstd/panicking.rs continue_panic_fmt', 'std::panicking::continue_panic_fmt'],
  ['src/libstd/panicking.rs rust_panic_with_hook', 'std::panicking::rust_panic_with_hook'],
]);

/** The full path of a Rust 1.34 panic function named without its module, else the name as given. */
export function fixMissingRustModule(func: string, file: string | null | undefined): string {
  if (!file) return func;
  return RUST_134_FUNCTIONS.get(`${sourcePath(file)} ${func}`) ?? func;
}

/**
 * `(unloaded name@0xoffset)` for a frame in no loaded module whose address an unloaded
 * module covered: the first such module (the document sorts them by name) and its first
 * offset, as Socorro writes it; `(unloaded name)` without an offset.
 */
function unloadedText(frame: StackFrameInput): { text: string; module: string } | undefined {
  const first = frame.unloaded_modules?.[0];
  if (!first?.module) return undefined;
  // As written: Socorro lower-cases loaded modules' names on Windows, not unloaded ones'.
  const module = first.module;
  const offset = first.offsets?.[0];
  return { text: offset ? `(unloaded ${module}@${stripLeadingZeros(offset)})` : `(unloaded ${module})`, module };
}

/**
 * One frame's signature text. A function name when there is one (normalised by language,
 * plus `:line` when it matches the line-number list); else `file#line`; else
 * `module@0x<offset in module>`; else `(unloaded module@0x<offset>)` for an address in an
 * unloaded module; else `@0x<address>` (`@?` without one). A function name that is only
 * the nearest export below the address (`function_is_nearest_export`) counts as no name.
 */
export function normalizeFrame(frame: StackFrameInput, lineNumberList: SignatureList, inline = false): NormalizedFrame {
  const module = frame.module ? moduleName(frame.module) : undefined;
  const named = frame.function_is_nearest_export === true && module !== undefined ? '' : (frame.function ?? '');
  const func = fixMissingRustModule(fixWhitespace(named), frame.file);
  if (func !== '') {
    let text = isRustFrame(func, frame.file) ? normalizeRustFunction(func) : normalizeCppFunction(func);
    if (text === '') text = func;
    if (typeof frame.line === 'number' && lineNumberList.match(text)) text = `${text}:${frame.line}`;
    return { text, kind: 'function', module, inline };
  }
  if (frame.file && typeof frame.line === 'number' && frame.line > 0) {
    return { text: `${baseName(sourcePath(frame.file))}#${frame.line}`, kind: 'file-line', module, inline };
  }
  if (module !== undefined) {
    return { text: `${module}@${stripLeadingZeros(frame.module_offset ?? '0x0')}`, kind: 'module-offset', module, inline };
  }
  const unloaded = unloadedText(frame);
  if (unloaded) return { text: unloaded.text, kind: 'unloaded', module: unloaded.module, inline };
  // `@?`: a frame with no address at all (a hand-written document); never `@0x0`, which
  // means a call through a null pointer.
  return { text: `@${frame.offset ? stripLeadingZeros(frame.offset) : '?'}`, kind: 'address', inline };
}

/**
 * The crashing thread's frames as signature generation sees them: each physical frame
 * preceded by its inlined calls, innermost first (the order a report lists them in).
 * Inline frames share their physical frame's module and address.
 */
export function expandInlines(frames: readonly StackFrameInput[]): { frame: StackFrameInput; inline: boolean }[] {
  const out: { frame: StackFrameInput; inline: boolean }[] = [];
  for (const frame of frames) {
    for (const inlined of frame.inlines ?? []) {
      out.push({ frame: { module: frame.module, module_offset: frame.module_offset, offset: frame.offset, trust: 'inline', function: inlined.function, file: inlined.file, line: inlined.line }, inline: true });
    }
    out.push({ frame, inline: false });
  }
  return out;
}
