/**
 * The complete pure-TypeScript kernel table: the reference every other backend is checked against.
 *
 * Each kernel is the function of its name exported by one of the family files; the table lists them in
 * KERNEL_NAMES order. A new kernel is a new export there: nothing to add here (the compiler checks below that
 * every kernel of names.ts is exported, with its signature).
 */
import { KERNEL_NAMES, type KernelTable } from '../names';
import * as conv from './conv';
import * as elementwise from './elementwise';
import * as gemm from './gemm';
import * as reduce from './reduce';

const exported: KernelTable = { ...gemm, ...elementwise, ...reduce, ...conv };

export const jsKernels: KernelTable = Object.fromEntries(KERNEL_NAMES.map((name) => [name, exported[name]])) as unknown as KernelTable;
