/** What an imported .svg file is in the jest tests: an empty SVG string. */
module.exports = '<svg xmlns="http://www.w3.org/2000/svg"></svg>';
