module.exports = { ...require("../jest.preset.js"), displayName: "arch-powerpc", rootDir: __dirname };
