/**
 * `vugrad export MODEL.safetensors --onnx OUT.onnx`: a trained model as an ONNX file for onnxruntime and the
 * other serving runtimes (see docs/interop.md). The run configuration stored with the model goes into the
 * ONNX metadata (`vugrad.config`), so that `vugrad predict OUT.onnx` reads images as training did.
 *
 * @example
 * npx vugrad train -D mnist --out runs/mnist && npx vugrad export runs/mnist/model.safetensors --onnx mnist.onnx
 */
import * as fs from 'node:fs';
import type { Command } from 'commander';
import { saveOnnx, ONNX_OPSETS } from '../io';
import { ConfigError } from '../train/config';
import { loadSavedModel } from './saved-model';

interface ExportFlags {
  onnx: string;
  opset?: string;
  activation?: string;
}

async function exportCommand(modelFile: string, flags: ExportFlags): Promise<void> {
  let opset: number = ONNX_OPSETS.default;
  if (flags.opset !== undefined) {
    opset = Number(flags.opset);
    if (!/^\d+$/.test(flags.opset) || opset < ONNX_OPSETS.min || opset > ONNX_OPSETS.max) {
      throw new ConfigError(`--opset: expected an integer from ${ONNX_OPSETS.min} to ${ONNX_OPSETS.max}, got '${flags.opset}'`);
    }
  }
  if (modelFile.toLowerCase().endsWith('.onnx')) throw new ConfigError(`export: ${modelFile} is already ONNX; give the .safetensors model`);
  const saved = loadSavedModel(modelFile, { activation: flags.activation });
  const metadata: Record<string, string> = {};
  if (saved.config) {
    // The file travels: this machine's paths (the run's output and data folders) stay behind. predict needs the
    // rest (dataset, normalization, dtype) to read images as training did.
    const { out: _out, data: _data, ...portable } = saved.config;
    metadata['vugrad.config'] = JSON.stringify(portable);
  }
  saveOnnx(saved.model, flags.onnx, { inputShape: saved.inputShape, opset, metadata });
  const size = fs.statSync(flags.onnx).size;
  console.log(`wrote ${flags.onnx}: ${saved.description}, input [batch, ${saved.inputShape.join(', ')}], opset ${opset}, ${size} bytes`);
}

/** Adds `export` to the `vugrad` program. */
export function registerExport(program: Command): void {
  program
    .command('export <model>')
    .description('write a trained model (.safetensors) as ONNX, for onnxruntime and other runtimes')
    .requiredOption('--onnx <file>', 'the ONNX file to write')
    .option('--opset <n>', `ONNX opset (${ONNX_OPSETS.min}-${ONNX_OPSETS.max}, default ${ONNX_OPSETS.default})`)
    .option('--activation <name>', "an MLP's activation, for a state dict that does not record it (relu, sigmoid, tanh)")
    .action(exportCommand);
}
