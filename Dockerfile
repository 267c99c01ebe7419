# needgraph API image (used by docker-compose.yml), installed from the same lock as `make test`.
FROM python:3.11-slim
WORKDIR /app
ENV PIP_NO_CACHE_DIR=1 HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 PYTHONUNBUFFERED=1
COPY requirements.lock pyproject.toml README.md ./
RUN pip install -r requirements.lock
COPY needgraph ./needgraph
COPY ontology ./ontology
COPY mappings ./mappings
RUN pip install --no-deps .
EXPOSE 8000
USER nobody
CMD ["needgraph", "serve", "--host", "0.0.0.0", "--port", "8000"]
