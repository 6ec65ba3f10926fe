import { descriptor } from "@smpcall/arch-sparc";
import { runConformanceSuite } from "@smpcall/core/conformance/jest";

for (const platform of ["sun4v", "sun4u-cheetah", "sun4u-spitfire"])
  runConformanceSuite(descriptor, { options: { platform } });
