export { chartRow, lineChart, svgToPng, type ChartOptions, type Series } from './plot';
export { dotToSvg, graphToDot } from './graph-dot';
