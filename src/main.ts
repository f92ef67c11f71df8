import { failedToStart, serve } from "./serve.js";

serve(process.env).catch(failedToStart);
