# Multi-stage build. Default target: the edge proxy. For the control plane:
#   docker build --build-arg PROJECT=ControlPlane -t authio-control-plane .
# Runtime images run as the non-root 'app' user (uid 1654) that the .NET images provide.
ARG PROJECT=EdgeProxy

FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
ARG PROJECT
WORKDIR /src
COPY global.json Directory.Build.props Directory.Packages.props Authio.Edge.sln ./
COPY src/ src/
RUN dotnet publish src/${PROJECT} -c Release -o /app --nologo

FROM mcr.microsoft.com/dotnet/aspnet:10.0 AS runtime
ARG PROJECT
# GC mode comes from each project's runtimeconfig (the edge: workstation, concurrent, ConserveMemory 9 — README
# "Memory and sizing"; the control plane: Server GC). Inside a container limit the runtime sizes its heap from it.
ENV ASPNETCORE_URLS=http://+:8080 \
    AUTHIO_ASSEMBLY=Authio.${PROJECT}.dll
WORKDIR /app
COPY --from=build --chown=root:root /app ./
USER $APP_UID
# 8080: proxy (or control plane API). The edge's admin listener (Edge__AdminUrls) stays on loopback unless set,
# e.g. -e Edge__AdminUrls=http://+:9901 to scrape /metrics from outside the container.
EXPOSE 8080 9901
# The edge: the segments GC (libclrgc.so, shipped with the runtime) and a 4 MiB generation-0 budget; neither has a
# runtimeconfig knob that works everywhere. The regions GC kept ≈ 14 MiB more committed under token churn (heap
# swings between collections), the workstation gen-0 default follows the CPU's cache size and kept ≈ 80 MiB more, 16 MiB
# ≈ 8 MiB more than 4 (load/README.md "Memory under token churn"). The hot path allocates nothing, so the smaller
# budget costs few collections. Set either variable to override (`-e DOTNET_GCName=`, empty: the built-in regions GC).
ENTRYPOINT ["sh", "-c", "[ \"$AUTHIO_ASSEMBLY\" = Authio.EdgeProxy.dll ] && export DOTNET_GCName=\"${DOTNET_GCName-libclrgc.so}\" DOTNET_GCgen0size=\"${DOTNET_GCgen0size:-0x400000}\"; exec dotnet \"$AUTHIO_ASSEMBLY\" \"$@\"", "--"]
