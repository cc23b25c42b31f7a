// plotly.js's core (scatter, the axes, legend, hover, update menus, shapes, annotations)
// and the trace types archcost's reports draw. archcost/report/bundle.py lists the same
// types (TRACES); tests/test_bundle.py checks every figure stays within them.
'use strict';
var Plotly = require('plotly.js/lib/core');
Plotly.register([
    require('plotly.js/lib/bar'),
    require('plotly.js/lib/box'),
    require('plotly.js/lib/heatmap'),
    require('plotly.js/lib/parcoords'),
    require('plotly.js/lib/sunburst'),
]);
module.exports = Plotly;
