export * from './types';
export * from './schedule';
export * from './processArrays';
export * from './respacing';
export * from './noiseProcess';
export * from './skipFraction';
