/** One line of a LineChart: parallel x/y arrays (as the store's Series carry them). */
export interface ChartSeries {
  label: string;
  x: ArrayLike<number>;
  y: ArrayLike<number>;
  color?: string;
  dashed?: boolean;
  /** Line width in px (default 1.5). */
  width?: number;
  /** Mark each point (for series of a few measurements, e.g. quality at K sampling steps). */
  points?: boolean;
}
