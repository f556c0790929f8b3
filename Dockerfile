# One image for every modelwatch service; the compose file picks the command.
#   docker build -t modelwatch .                     (CPU ONNX Runtime)
#   docker build --build-arg EXTRA=gpu -t modelwatch:gpu .   (shadow runner on CUDA)
FROM python:3.11-slim

# cpu -> onnxruntime, gpu -> onnxruntime-gpu (never both: they share the module name).
ARG EXTRA=cpu

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    MODELWATCH_HOST=0.0.0.0 \
    MODELWATCH_CONFIG=/app/examples/monitors.yaml

WORKDIR /app
COPY pyproject.toml README.md ./
COPY modelwatch ./modelwatch
COPY config ./config
COPY store ./store
COPY collector ./collector
COPY analysis ./analysis
COPY alerts ./alerts
COPY shadow ./shadow
COPY dashboard ./dashboard
COPY examples ./examples

# The GPU build also brings the CUDA and cuDNN runtime wheels onnxruntime-gpu loads, so the
# image needs only the NVIDIA driver from the host (the compose GPU reservation).
RUN pip install ".[${EXTRA}]" \
    && if [ "${EXTRA}" = "gpu" ]; then pip install "onnxruntime-gpu[cuda,cudnn]"; fi \
    && useradd --system --uid 10001 --home-dir /app modelwatch \
    && mkdir -p /var/lib/modelwatch/rules && chown -R modelwatch /var/lib/modelwatch

USER modelwatch
EXPOSE 8000 8501
ENTRYPOINT []
CMD ["modelwatch", "collector"]
