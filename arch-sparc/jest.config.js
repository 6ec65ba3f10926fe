module.exports = { ...require("../jest.preset.js"), displayName: "arch-sparc", rootDir: __dirname };
