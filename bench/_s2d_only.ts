import { benchS2d } from "./s2d.js";
console.log(JSON.stringify(await benchS2d(), null, 1));
