// The engine lives in this worker, so model loading, inference and calibration never block the page.
import '@shortv/runtime-web/worker';
