/** Saving and loading tensors and models (safetensors). */
export {
  loadModel,
  loadSafetensors,
  metadataJson,
  parseSafetensors,
  saveModel,
  saveSafetensors,
  serializeSafetensors,
  type SafetensorsContents,
} from './safetensors';
export * from './onnx';
