module.exports = { ...require("../jest.preset.js"), displayName: "arch-generic", rootDir: __dirname };
