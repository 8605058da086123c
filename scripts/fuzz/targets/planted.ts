/** The fuzzer's self-test (see scripts/fuzz/planted-bugs.ts): it must find the planted bug. */
import { plantedBugs, type PlantedBug } from '../planted-bugs.js';
import type { FuzzTarget } from '../target.js';

const bug = (process.env.PLANTED_BUG ?? 'exception') as PlantedBug;

export const target: FuzzTarget = {
  name: 'planted',
  maxLength: 64,
  text: false,
  dictionary: [],
  seeds: () => [new TextEncoder().encode('AAAAAAAA')],
  execute: (input) => plantedBugs(input, bug),
};
