module.exports = { ...require("../jest.preset.js"), displayName: "arch-x86", rootDir: __dirname };
