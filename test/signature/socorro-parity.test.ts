/**
 * Frame normalisation against Socorro's: the expectations of Socorro's own tests
 * (`socorro/signature/tests/test_rules.py`: `test_normalize_cpp_function`,
 * `test_normalize_rust_function`, `test_normalize_frame`, `test_fix_missing_module`), and
 * one block per class of names where Mayday used to differ, with the output Socorro's rules
 * (`socorro/signature/rules.py`, `utils.py`) give. The deliberate differences that remain
 * are tested last, each with Socorro's output in a comment; docs/signatures.md lists them.
 */
import { describe, expect, it } from 'vitest';
import { generateSignature } from '../../src/signature/generator.js';
import { compileSignatureLists, parseSignatureList } from '../../src/signature/lists.js';
import { fixMissingRustModule, normalizeCppFunction, normalizeFrame, normalizeRustFunction, type StackFrameInput } from '../../src/signature/normalize.js';

const noLines = parseSignatureList('', 'line-number.txt');
const cpp = (name: string) => normalizeCppFunction(name);
const rust = (name: string) => normalizeRustFunction(name);

describe("Socorro's test_normalize_cpp_function", () => {
  it.each([
    ['fn', 'fn'],
    ['f( *s)', 'f'],
    ['f( &s)', 'f'],
    ['f( *s , &n)', 'f'],
    ['f3(s,t,u)', 'f3'],
    ['operator()(s,t,u)', 'operator()'],
    ['::(anonymous namespace)::f3(s,t,u)', '::(anonymous namespace)::f3'],
    ['mozilla::layers::D3D11YCbCrImage::GetAsSourceSurface()', 'mozilla::layers::D3D11YCbCrImage::GetAsSourceSurface'],
    ['mozilla::layers::BasicImageLayer::Paint(mozilla::gfx::DrawTarget*, mozilla::gfx::PointTyped<mozilla::gfx::UnknownUnits, float> const&, mozilla::layers::Layer*)', 'mozilla::layers::BasicImageLayer::Paint'],
    ['void nsDocumentViewer::DestroyPresShell()', 'nsDocumentViewer::DestroyPresShell'],
    ['bool CCGraphBuilder::BuildGraph(class js::SliceBudget& const)', 'CCGraphBuilder::BuildGraph'],
    ['f<3>(s,t,u)', 'f<T>'],
    ['Alpha<Bravo<Charlie>, Delta>::Echo<Foxtrot>', 'Alpha<T>::Echo<T>'],
    ['thread_start<unsigned int (__cdecl*)(void* __ptr64)>', 'thread_start<T>'],
    ['class JSObject* DoCallback<JSObject*>(class JS::CallbackTracer*, class JSObject**, const char*)', 'DoCallback<T>'],
    ['JS::Heap<JSObject*>::operator JSObject* const &()', 'JS::Heap<T>::operator JSObject* const&'],
    ['JSObject::allocKindForTenure const', 'JSObject::allocKindForTenure'],
    ['mozilla::jni::GlobalRef<mozilla::jni::Object>::operator=(mozilla::jni::Ref<mozilla::jni::Object, _jobject*> const&)&', 'mozilla::jni::GlobalRef<T>::operator='],
    ["`anonymous namespace'::foo", '(anonymous namespace)::foo'],
    ['(anonymous namespace)::foo', '(anonymous namespace)::foo'],
    ['ShutdownWorkThreads::$_52::__invoke', 'ShutdownWorkThreads::$::__invoke'],
  ])('%s → %s', (input, expected) => {
    expect(cpp(input)).toBe(expected);
  });
});

describe("Socorro's test_normalize_rust_function", () => {
  it.each([
    ['expect_failed::h7f635057bfba806a', 'expect_failed'],
    ['expect_failed::h7f6350::blah', 'expect_failed::h7f6350::blah'],
    ['static void servo_arc::Arc<style::gecko_properties::ComputedValues>::drop_slow<style::gecko_properties::ComputedValues>()', 'servo_arc::Arc<T>::drop_slow<T>'],
    ['static void core::ptr::drop_in_place<style::stylist::CascadeData>(struct style::stylist::CascadeData*)', 'core::ptr::drop_in_place<T>'],
    ['<rayon_core::job::HeapJob<BODY> as rayon_core::job::Job>::execute', '<rayon_core::job::HeapJob<BODY> as rayon_core::job::Job>::execute'],
  ])('%s → %s', (input, expected) => {
    expect(rust(input)).toBe(expected);
  });
});

describe("Socorro's test_normalize_frame", () => {
  const frame = (module: string | null, func: string, file: string, line: number | null, offset: string): StackFrameInput => ({
    module,
    function: func,
    file,
    line,
    module_offset: module ? offset : null,
    offset: module ? null : offset,
  });

  it.each([
    [frame('module', '', 'source/', 23, '0xfff'), 'source#23'],
    [frame('module', '', 'source\\', 23, '0xfff'), 'source#23'],
    [frame('module', '', '/a/b/c/source', 23, '0xfff'), 'source#23'],
    [frame('module', '', '\\a\\b\\c\\source', 23, '0xfff'), 'source#23'],
    [frame('module', '', '\\a\\b\\c\\source', null, '0xfff'), 'module@0xfff'],
    [frame('module', '', '', 23, '0xfff'), 'module@0xfff'],
    [frame('module', '', '', null, '0xfff'), 'module@0xfff'],
    [frame(null, '', '', null, '0xfff'), '@0xfff'],
    // a Rust frame (by its file): the hash goes
    [frame('module', 'expect_failed::h7f635057bfba806a', 'hg:hg.mozilla.org/a/b:servio/wrapper.rs:44444444444', 23, '0xfff'), 'expect_failed'],
  ] as const)('%o → %s', (input, expected) => {
    expect(normalizeFrame(input, noLines).text).toBe(expected);
  });
});

describe("Socorro's test_fix_missing_module (Rust 1.34 panic symbols)", () => {
  it('restores the module path of the panic functions from their source file', () => {
    expect(fixMissingRustModule('panic', null)).toBe('panic');
    const file = 'git:github.com/rust-lang/rust:src/libstd/panicking.rs:91856ed52c58aa5ba66a015354d1cc69e9779bdf';
    expect(fixMissingRustModule('begin_panic_fmt', file)).toBe('std::panicking::begin_panic_fmt');
    expect(normalizeFrame({ function: 'panic', file: 'git:github.com/rust-lang/rust:src/libcore/panicking.rs:abc', line: 3 }, noLines).text).toBe('core::panicking::panic');
    expect(fixMissingRustModule('panic', '/src/other.rs')).toBe('panic');
  });
});

describe('conversion operators: the type is the name (Socorro keeps everything of a `::operator` name)', () => {
  it.each([
    ['JS::Heap<JSObject*>::operator JSObject* const &()', 'JS::Heap<T>::operator JSObject* const&'],
    ['Foo::operator const char*() const', 'Foo::operator const char*'],
    ['nsCOMPtr<nsIFoo>::operator nsIFoo*() const', 'nsCOMPtr<T>::operator nsIFoo*'],
    ['Foo::operator Bar<int>&()', 'Foo::operator Bar<T>&'],
    ['Foo<int>::operator Foo<long>() const', 'Foo<T>::operator Foo<T>'],
    ['mozilla::Maybe<int>::operator bool const', 'mozilla::Maybe<T>::operator bool'],
    ['Foo::operator bool() const', 'Foo::operator bool'],
    // ... and the return type of an operator with a namespace stays, as in Socorro
    ['bool __gnu_cxx::operator==<int*>(int* const&, int* const&)', 'bool __gnu_cxx::operator==<T>'],
    ['__gnu_cxx::operator-<char*, std::vector<char> >(__gnu_cxx::__normal_iterator<char*> const&)', '__gnu_cxx::operator-<T>'],
  ])('%s → %s', (input, expected) => {
    expect(cpp(input)).toBe(expected);
  });
});

describe('a trailing qualifier on a name without an argument list', () => {
  it.each([
    ['JSObject::allocKindForTenure const', 'JSObject::allocKindForTenure'],
    ['Foo::bar const&', 'Foo::bar'],
    ['Foo::bar &&', 'Foo::bar'],
    ['mozilla::jni::GlobalRef<mozilla::jni::Object>::operator=(mozilla::jni::Ref<mozilla::jni::Object, _jobject*> const&)&', 'mozilla::jni::GlobalRef<T>::operator='],
  ])('%s → %s', (input, expected) => {
    expect(cpp(input)).toBe(expected);
  });

  it('leaves names that only end like a qualifier (Socorro: "Foo::operator", a deliberate difference)', () => {
    expect(cpp('Foo::operator&')).toBe('Foo::operator&');
    expect(cpp('Foo::operator&&(Foo const&)')).toBe('Foo::operator&&');
    expect(cpp('const')).toBe('const');
  });
});

describe('Rust generic parameters: kept in `<Type as Trait>`, collapsed elsewhere, as Socorro does', () => {
  it.each([
    ['<rayon_core::job::HeapJob<BODY> as rayon_core::job::Job>::execute', '<rayon_core::job::HeapJob<BODY> as rayon_core::job::Job>::execute'],
    ['<alloc::vec::Vec<T,A> as core::ops::drop::Drop>::drop', '<alloc::vec::Vec<T, A> as core::ops::drop::Drop>::drop'],
    ['<core::iter::adapters::map::Map<I,F> as core::iter::traits::iterator::Iterator>::fold', '<core::iter::adapters::map::Map<I, F> as core::iter::traits::iterator::Iterator>::fold'],
    ['core::ptr::drop_in_place<alloc::vec::Vec<u8>>', 'core::ptr::drop_in_place<T>'],
    ['alloc::raw_vec::RawVec<T,A>::grow_one', 'alloc::raw_vec::RawVec<T>::grow_one'],
    ['core::slice::index::<impl core::ops::index::Index<I> for [T]>::index', 'core::slice::index::<T>::index'],
    ['<alloc::sync::Arc<T>>::drop_slow', '<T>::drop_slow'],
    ['hashbrown::raw::RawTable<T>::new_uninitialized<T>', 'hashbrown::raw::RawTable<T>::new_uninitialized<T>'],
  ])('%s → %s', (input, expected) => {
    expect(rust(input)).toBe(expected);
  });

  it('tells Rust frames apart by their .rs source file, as Socorro does', () => {
    const name = '<alloc::vec::Vec<u8> as core::ops::drop::Drop>::drop';
    expect(normalizeFrame({ function: name, file: '/rustc/90b35a623/library/alloc/src/vec/mod.rs', line: 3 }, noLines).text).toBe(name);
    // the same name from a C++ file is collapsed like a template
    expect(normalizeFrame({ function: name, file: '/src/glue.cc', line: 3 }, noLines).text).toBe('<T>::drop');
  });
});

describe('IPC::ParamTraits keeps its arguments, with their own collapsed (Socorro)', () => {
  it('IPC::ParamTraits<nsTSubstring<char> >::Write(...) → IPC::ParamTraits<nsTSubstring<T> >::Write', () => {
    expect(cpp('IPC::ParamTraits<nsTSubstring<char> >::Write(IPC::Message *,nsTSubstring<char> const &)')).toBe('IPC::ParamTraits<nsTSubstring<T> >::Write');
    expect(cpp('IPC::ParamTraits<int *,char &>::Write')).toBe('IPC::ParamTraits<int*, char&>::Write');
  });

  it('keeps any template argument with `name omitted` or ` in `', () => {
    expect(cpp('Foo<Bar<name omitted>>::baz')).toBe('Foo<Bar<name omitted>>::baz');
    expect(cpp('<unknown in foo.dll>')).toBe('<unknown in foo.dll>');
  });
});

describe('frames in unloaded modules: `(unloaded name@offset)`, as Socorro signs them', () => {
  const unloaded = (modules: StackFrameInput['unloaded_modules']): StackFrameInput => ({ module: null, module_offset: null, offset: '0x0000000056ea1234', function: null, unloaded_modules: modules });

  it('names the first unloaded module and its first offset, without zero padding', () => {
    expect(normalizeFrame(unloaded([{ module: 'KBDUS.DLL', offsets: ['0x0000000000001234', '0x0000000000002234'] }, { module: 'other.dll', offsets: ['0x10'] }]), noLines)).toEqual({
      text: '(unloaded KBDUS.DLL@0x1234)',
      kind: 'unloaded',
      module: 'KBDUS.DLL',
      inline: false,
    });
    expect(normalizeFrame(unloaded([{ module: 'gone.so', offsets: [] }]), noLines).text).toBe('(unloaded gone.so)');
    expect(normalizeFrame(unloaded([]), noLines).text).toBe('@0x56ea1234');
    expect(normalizeFrame(unloaded(null), noLines).text).toBe('@0x56ea1234');
  });

  it('a loaded module, a function or a source line comes first', () => {
    expect(normalizeFrame({ ...unloaded([{ module: 'a.dll', offsets: ['0x1'] }]), function: 'f(int)' }, noLines).text).toBe('f');
    expect(normalizeFrame({ ...unloaded([{ module: 'a.dll', offsets: ['0x1'] }]), module: 'b.dll', module_offset: '0x2' }, noLines).text).toBe('b.dll@0x2');
  });

  it('keeps the frame whole in the signature: not cut to its module, not collapsed with the next', () => {
    const lists = compileSignatureLists({ sentinel: '', irrelevant: '', prefix: '.*\\.dll\n', 'line-number': '' });
    const frames: StackFrameInput[] = [
      unloaded([{ module: 'hook.dll', offsets: ['0x10'] }]),
      unloaded([{ module: 'hook.dll', offsets: ['0x20'] }]),
      { module: 'app.exe', module_offset: '0x400', function: 'Window::Paint(int)' },
    ];
    const result = generateSignature({ crashingThread: 0, frames }, lists);
    // Socorro: "(unloaded hook.dll@0x10) | (unloaded hook.dll@0x20) | Window::Paint"
    expect(result.signature).toBe('(unloaded hook.dll@0x10) | (unloaded hook.dll@0x20) | Window::Paint');
  });
});

describe('frames named only after the nearest export fall back to module@offset', () => {
  it('uses the module and offset when function_is_nearest_export says the name is not the function', () => {
    const frame: StackFrameInput = { module: 'libc.so.6', module_offset: '0x000000000008aeec', function: 'pthread_key_delete', function_is_nearest_export: true };
    expect(normalizeFrame(frame, noLines)).toMatchObject({ text: 'libc.so.6@0x8aeec', kind: 'module-offset' });
    expect(normalizeFrame({ ...frame, function_is_nearest_export: false }, noLines).text).toBe('pthread_key_delete');
  });
});

/**
 * Where Mayday deliberately differs, with Socorro's output: each is a Socorro rule that
 * misreads a name (its fix belongs upstream), or a normalisation Socorro does not do.
 */
describe('deliberate differences from Socorro (docs/signatures.md)', () => {
  it.each([
    // Socorro: "new" and "delete": a free operator's name is split at its space
    ['operator new(unsigned long)', 'operator new'],
    ['operator delete(void*, unsigned long)', 'operator delete'],
    // Socorro: "Foo::operator<T>", "bool std::chrono::operator<T>": the operator's `<` read as a template bracket
    ['Foo::operator<(Foo const&) const', 'Foo::operator<'],
    ['Foo::operator<<(int)', 'Foo::operator<<'],
    ['bool std::chrono::operator<=<long, std::ratio<1l, 1l> >(std::chrono::duration<long> const&)', 'bool std::chrono::operator<=<T>'],
    // Socorro: "const", "noexcept", "volatile": it drops one of const/const&/&&/& and only those
    ['QString::toUtf8() const &', 'QString::toUtf8'],
    ['Foo::get() volatile noexcept', 'Foo::get'],
    ['std::atomic_flag::test_and_set(std::memory_order) volatile', 'std::atomic_flag::test_and_set'],
    // Socorro: "rustc_demangle::v0::Printer::print_": a name ending in "const"
    ['rustc_demangle::v0::Printer::print_const', 'rustc_demangle::v0::Printer::print_const'],
    // Socorro: "void (anonymous namespace)::Foo::bar": the name's leading `(` joins the return type
    ['void (anonymous namespace)::Foo::bar(int)', '(anonymous namespace)::Foo::bar'],
    // Socorro keeps the argument list when an argument's type is in an anonymous namespace
    ['crashpad::Db::LocateAndLockReport(crashpad::UUID const&, crashpad::(anonymous namespace)::ScopedLockFile*)', 'crashpad::Db::LocateAndLockReport'],
    // Socorro: "foo " (cold clones: a trailing space), "foo [clone .isra.0]", "main.cold"
    ['foo(int) [clone .cold]', 'foo'],
    ['foo(int) [clone .isra.0]', 'foo'],
    ['main.cold', 'main'],
    ['foo (int)', 'foo'],
    // Socorro: "{anonymous}::helper", "main::{lambda#2}::operator()"
    ['{anonymous}::helper(int)', '(anonymous namespace)::helper'],
    ['main::{lambda()#2}::operator()() const', 'main::{lambda}::operator()'],
  ])('C++ %s → %s', (input, expected) => {
    expect(cpp(input)).toBe(expected);
  });

  it.each([
    // Socorro: "app::main::{closure#0}", "std::rt::lang_start::{{closure}}"
    ['app::main::{closure#0}', 'app::main::{closure}'],
    ['std::rt::lang_start::{{closure}}', 'std::rt::lang_start::{closure}'],
    // Socorro: "hashbrown::raw": any `::h` + hex digits at the end is taken for a hash
    ['hashbrown::raw::h2', 'hashbrown::raw::h2'],
  ])('Rust %s → %s', (input, expected) => {
    expect(rust(input)).toBe(expected);
  });

  it('recognises Rust frames without a source file by their hash or Rust-only forms (Socorro: C++ rules, hash kept)', () => {
    expect(normalizeFrame({ function: 'app::foo::h0123456789abcdef' }, noLines).text).toBe('app::foo');
  });
});
