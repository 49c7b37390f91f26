/** The store's public surface: open it, use the Store's methods, read the record types. */
export { openStore, Store, type StoreOptions } from './store';
export { MetricsWriter, type MetricsWriterOptions } from './metricsWriter';
export { StoreError, type StoreErrorCode } from './errors';
export { useSqliteNativeBinding, nativeModuleProblem } from './nativeBinding';
export { SCHEMA_VERSION } from './migrations';
export { INTERRUPTED_REASON } from './runs';
export { JOB_INTERRUPTED_REASON } from './jobs';
export * from './types';
export { StudiesTable, SCHEMA_STUDIES, type StudyRecord, type StudyRecordStatus, type StudyEvaluationRecord, type NewStudy, type StudyPatch } from './studies';
