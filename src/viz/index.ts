/** Pictures: PNG image and weight-filter grids, Vega-Lite plots rendered to SVG. */
export * from './png.js';
export * from './plot.js';
