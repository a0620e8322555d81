export type { ExportFormat, ExportRequest, ExportResult } from './transformers-js.ts';
export {
  checkExportFormat,
  checkExportTarget,
  EXPORT_FORMATS,
  exportableFrozenLayers,
  exportModel,
} from './transformers-js.ts';
