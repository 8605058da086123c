import { describe, expect, it } from 'vitest';
import { parseSignatureList } from '../../src/signature/lists.js';
import { dropPrefixAndReturnType, expandInlines, isRustFrame, normalizeCppFunction, normalizeFrame, normalizeRustFunction, sourcePath, stripLeadingZeros } from '../../src/signature/normalize.js';
import { enclosedSlices, splitTopLevelSpaces } from '../../src/signature/enclosed.js';

const noLines = parseSignatureList('', 'line-number.txt');

describe('C/C++ function normalisation', () => {
  it.each([
    // argument lists
    ['crash_null_deref(Widget*)', 'crash_null_deref'],
    ['layout_frame(Widget*, int)', 'layout_frame'],
    ['foo (int)', 'foo'],
    // return types and storage classes
    ['static void* Allocator<MozJemallocBase>::malloc(unsigned long)', 'Allocator<T>::malloc'],
    ['unsigned long long mozilla::detail::Foo::bar(int)', 'mozilla::detail::Foo::bar'],
    // template arguments, nested
    ['std::vector<std::pair<int, char>, std::allocator<std::pair<int, char> > >::push_back(int const&)', 'std::vector<T>::push_back'],
    ['std::thread::_State_impl<std::thread::_Invoker<std::tuple<main(int, char**)::<lambda()> > > >::_M_run', 'std::thread::_State_impl<T>::_M_run'],
    // member qualifiers
    ['std::error_code::default_error_condition() const', 'std::error_code::default_error_condition'],
    ['Foo::get() const &&', 'Foo::get'],
    ['Foo::get() volatile noexcept', 'Foo::get'],
    // anonymous namespaces, in every spelling
    ["`anonymous namespace'::CrashFunction", '(anonymous namespace)::CrashFunction'],
    ['(anonymous namespace)::CrashFunction()', '(anonymous namespace)::CrashFunction'],
    ['void (anonymous namespace)::Foo::bar(int)', '(anonymous namespace)::Foo::bar'],
    ['{anonymous}::helper(int)', '(anonymous namespace)::helper'],
    // lambdas
    ['main::{lambda()#2}::operator()() const', 'main::{lambda}::operator()'],
    ['Foo::$_12::operator()(int) const', 'Foo::$::operator()'],
    ['Foo::Bar::<lambda_9b2c4d1e>::operator()', 'Foo::Bar::<lambda>::operator()'],
    // clone suffixes
    ['google_breakpad::ConvertUTF8toUTF32(unsigned char const**, unsigned long*) [clone .cold]', 'google_breakpad::ConvertUTF8toUTF32'],
    ['(anonymous namespace)::MinidumpWriter::WriteProcFile(MDLocationDescriptor*, int, char const*) [clone .constprop.119]', '(anonymous namespace)::MinidumpWriter::WriteProcFile'],
    ['foo(int) [clone .isra.0] [clone .cold]', 'foo'],
    ['main.cold', 'main'],
    ['compute.part.0', 'compute'],
    ['compute.constprop.0.isra.0', 'compute'],
    ['helper.lto_priv.0', 'helper'],
    // operators keep their names
    ['operator new(unsigned long)', 'operator new'],
    ['void* operator new[](unsigned long)', 'operator new[]'],
    ['Foo::operator bool() const', 'Foo::operator bool'],
    ['Foo::operator()(int)', 'Foo::operator()'],
    ['bool operator<(Foo const&, Foo const&)', 'operator<'],
    // a name with `::operator` keeps what comes before it, as in Socorro
    ['std::ostream& std::operator<< <std::char_traits<char> >(std::ostream&, char const*)', 'std::ostream& std::operator<< <T>'],
    ['__gnu_cxx::operator-<char*, std::vector<char> >(__gnu_cxx::__normal_iterator<char*> const&)', '__gnu_cxx::operator-<T>'],
    ['bool __gnu_cxx::operator==<int*>(int* const&, int* const&)', 'bool __gnu_cxx::operator==<T>'],
    ['Foo::operator->() const', 'Foo::operator->'],
    // special template arguments kept
    ['Foo<name omitted>::bar', 'Foo<name omitted>::bar'],
    ['<unknown in foo.dll>', '<unknown in foo.dll>'],
    // whitespace
    ['  foo::bar(\tint,\n char )  ', 'foo::bar'],
    ['void\tfoo::bar (int)', 'foo::bar'],
  ])('%s → %s', (input, expected) => {
    expect(normalizeCppFunction(input)).toBe(expected);
  });

  it('puts pointer declarators against their type and one space after commas', () => {
    expect(normalizeCppFunction('Foo<A>::bar(int)')).toBe('Foo<T>::bar');
    expect(normalizeCppFunction('Foo::operator()(int) [clone .cold.1]')).toBe('Foo::operator()');
    expect(normalizeCppFunction('IPC::ParamTraits<int *,char &>::Write')).toBe('IPC::ParamTraits<int*, char&>::Write');
    expect(normalizeCppFunction('`anonymous namespace\'::Table<a,b>::get(a *,b &)')).toBe('(anonymous namespace)::Table<T>::get');
  });
});

describe('Rust function normalisation', () => {
  it.each([
    ['core::result::unwrap_failed::h0a1b2c3d4e5f6a7b', 'core::result::unwrap_failed'],
    ['alloc::vec::Vec<T,A>::push::h0123456789abcdef', 'alloc::vec::Vec<T>::push'],
    ['<alloc::vec::Vec<u8> as core::ops::drop::Drop>::drop::h0123456789abcdef', '<alloc::vec::Vec<u8> as core::ops::drop::Drop>::drop'],
    ['core::slice::index::<impl core::ops::index::Index<I> for [T]>::index', 'core::slice::index::<T>::index'],
    ['core::ops::function::impls::<impl core::ops::function::FnOnce<A> for &F>::call_once', 'core::ops::function::impls::<T>::call_once'],
    ['crash_client::real_main::{closure#1}', 'crash_client::real_main::{closure}'],
    ['std::rt::lang_start::{{closure}}::h0123456789abcdef', 'std::rt::lang_start::{closure}'],
    ['core::ptr::write_volatile::<u8>', 'core::ptr::write_volatile::<T>'],
    ['mycrate::thing.llvm.12345678', 'mycrate::thing'],
  ])('%s → %s', (input, expected) => {
    expect(normalizeRustFunction(input)).toBe(expected);
  });

  it('recognises Rust frames by source file, hash, or Rust-only constructs', () => {
    expect(isRustFrame('foo', '/src/lib.rs')).toBe(true);
    expect(isRustFrame('foo', 'git:github.com/org/repo:src/lib.rs:0123abcd')).toBe(true);
    expect(isRustFrame('foo::h0123456789abcdef', null)).toBe(true);
    expect(isRustFrame('main::{closure#0}', null)).toBe(true);
    expect(isRustFrame('foo', '/src/foo.cc')).toBe(false);
    expect(isRustFrame('std::vector<int>::push_back', null)).toBe(false);
  });

  it('normalises a frame from a .rs file with Rust rules', () => {
    // `$_1` is a clang lambda number in C++, and nothing special in Rust.
    expect(normalizeFrame({ function: 'mycrate::Foo::$_1', file: 'src/lib.rs', line: 3 }, noLines).text).toBe('mycrate::Foo::$_1');
    expect(normalizeFrame({ function: 'mycrate::Foo::$_1', file: 'src/lib.cc', line: 3 }, noLines).text).toBe('mycrate::Foo::$');
  });
});

describe('frame fallbacks', () => {
  it('uses the function when there is one, with its line when the line-number list says so', () => {
    const lines = parseSignatureList('interpret$\n', 'line-number.txt');
    expect(normalizeFrame({ function: 'interpret(Vm*)', file: '/src/vm.c', line: 1234 }, lines)).toEqual({ text: 'interpret:1234', kind: 'function', module: undefined, inline: false });
    expect(normalizeFrame({ function: 'interpreter(Vm*)', file: '/src/vm.c', line: 1234 }, lines).text).toBe('interpreter');
    expect(normalizeFrame({ function: 'interpret(Vm*)', file: null, line: null }, lines).text).toBe('interpret');
  });

  it('falls back to file#line, then module@offset, then @address', () => {
    expect(normalizeFrame({ file: '/srv/app/src/crasher.cc', line: 14, module: 'app', module_offset: '0x10' }, noLines)).toMatchObject({ text: 'crasher.cc#14', kind: 'file-line' });
    expect(normalizeFrame({ file: 'c:\\build\\src\\crasher.cc', line: 9 }, noLines).text).toBe('crasher.cc#9');
    expect(normalizeFrame({ file: 'hg:hg.mozilla.org/repo:js/src/jit/MIR.h:755067c14b06', line: 7 }, noLines).text).toBe('MIR.h#7');
    expect(normalizeFrame({ module: 'libc.so.6', module_offset: '0x0008aeec', offset: '0x00007f0000001000' }, noLines)).toEqual({ text: 'libc.so.6@0x8aeec', kind: 'module-offset', module: 'libc.so.6', inline: false });
    expect(normalizeFrame({ module: 'NTDLL.DLL', module_offset: '0x1A' }, noLines).text).toBe('ntdll.dll@0x1a');
    expect(normalizeFrame({ module: 'Electron Framework', module_offset: '0x10' }, noLines).text).toBe('Electron Framework@0x10');
    expect(normalizeFrame({ offset: '0x0000000000001234' }, noLines)).toMatchObject({ text: '@0x1234', kind: 'address' });
    expect(normalizeFrame({ offset: '0x0000000000000000' }, noLines).text).toBe('@0x0');
    expect(normalizeFrame({}, noLines).text).toBe('@?');
  });

  it('strips zero padding from hex and version-control decoration from paths', () => {
    expect(stripLeadingZeros('0x00000000')).toBe('0x0');
    expect(stripLeadingZeros('0x00ABC')).toBe('0xabc');
    expect(stripLeadingZeros('junk')).toBe('junk');
    expect(sourcePath('git:github.com/o/r:src/a.rs:abc')).toBe('src/a.rs');
    expect(sourcePath('/usr/include/c++/12/bits/invoke.h')).toBe('/usr/include/c++/12/bits/invoke.h');
  });
});

describe('inline frames', () => {
  it('expands each frame into its inlined calls, innermost first, then itself', () => {
    const frames = expandInlines([
      { function: 'main', file: 'a.cc', line: 10, module: 'app', module_offset: '0x40', inlines: [{ function: 'func()', file: 'c.cc', line: 3 }, { function: 'bar()', file: 'b.cc', line: 2 }] },
      { function: '_start', module: 'app', module_offset: '0x10', inlines: null },
    ]);
    expect(frames.map((f) => [f.frame.function, f.inline])).toEqual([
      ['func()', true],
      ['bar()', true],
      ['main', false],
      ['_start', false],
    ]);
    expect(frames[0].frame).toMatchObject({ module: 'app', module_offset: '0x40', file: 'c.cc', line: 3 });
  });
});

describe('bracket scanning', () => {
  it('finds top-level slices and treats operator angles as names', () => {
    expect(enclosedSlices('a<b<c>>d<e>', '<', '>')).toEqual([[1, 7], [8, 11]]);
    expect(enclosedSlices('operator<<(x)', '<', '>')).toEqual([]);
    expect(enclosedSlices('f<a->b>', '<', '>')).toEqual([[1, 7]]);
    expect(enclosedSlices('f<unclosed', '<', '>')).toEqual([[1, 10]]);
  });

  it('splits on spaces outside brackets only', () => {
    expect(splitTopLevelSpaces('static void* Foo<A, B>::bar(int, char)')).toEqual(['static', 'void*', 'Foo<A, B>::bar(int, char)']);
    expect(dropPrefixAndReturnType("`anonymous namespace'::f")).toBe("`anonymous namespace'::f");
  });
});
