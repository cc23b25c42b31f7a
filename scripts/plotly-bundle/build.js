// plotly.js's own esbuild settings (its esbuild-config.js), with our entry point.
const esbuild = require('esbuild');
const { environmentPlugin } = require('esbuild-plugin-environment');
const { glsl } = require('esbuild-plugin-glsl');
const InlineCSSPlugin = require('esbuild-plugin-inline-css');
const version = require('plotly.js/package.json').version;

esbuild.build({
    entryPoints: [require('path').join(__dirname, 'entry.js')],
    outfile: process.argv[2],
    format: 'iife',
    globalName: 'Plotly',
    bundle: true,
    minify: true,
    sourcemap: false,
    legalComments: 'none',
    banner: {
        js: `/*! plotly.js v${version}, partial bundle for archcost (scatter, bar, box, ` +
            'heatmap, parcoords, sunburst) | Copyright 2012-2026, Plotly, Inc. | ' +
            'MIT license: https://github.com/plotly/plotly.js/blob/master/LICENSE */'
    },
    plugins: [InlineCSSPlugin(), glsl({ minify: true }), environmentPlugin({ NODE_DEBUG: false })],
    alias: { regl: '@plotly/regl', stream: 'stream-browserify' },
    define: { global: 'window', 'define.amd': 'false' },
    target: 'es2016',
    logLevel: 'warning'
}).catch(() => process.exit(1));
