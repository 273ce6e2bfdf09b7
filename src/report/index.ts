// The report pictures a run folder gets (cell.svg, alpha.svg, tradeoff.svg): pure functions from
// plain data to standalone, deterministic SVG text. Callers write the strings to files.
export { cellSvg, type CellPicture, type CellEdgePicture } from './cell-svg.js';
export { alphaHeatmapSvg, tradeoffSvg, type AlphaHistory, type TradeoffPoint, type TradeoffOptions, type CostAxis } from './charts.js';
export { esc, logTicks, niceLinear, niceLogDomain, blues } from './svg.js';
