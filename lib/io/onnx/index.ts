/** ONNX export and import (see docs/interop.md). */
export {
  ONNX_EXPORTERS,
  ONNX_OPSETS,
  exportOnnx,
  saveOnnx,
  type ExportOnnxOptions,
  type OnnxAttribute,
  type OnnxExporter,
  type OnnxGraphBuilder,
  type OnnxValue,
} from './export';
export { ONNX_IMPORTERS, importOnnx, readOnnxInfo, type OnnxImportContext, type OnnxImporter, type OnnxInfo } from './import';
