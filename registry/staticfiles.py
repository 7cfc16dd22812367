"""Static files: the folders of STATICFILES_DIRS, less one file a package ships broken."""

from django.contrib.staticfiles.finders import FileSystemFinder

# Leaflet.markercluster's minified script names a source map its package does not ship,
# and the manifest storage refuses to collect a file that points at a missing one. The
# pages load `leaflet.markercluster-src.js`, whose map is there (compressed like every
# static file, it costs little more).
LEFT_OUT = ["leaflet.markercluster.js"]


class StaticDirectoriesFinder(FileSystemFinder):
    """Django's finder of STATICFILES_DIRS, leaving out `LEFT_OUT` when collecting."""

    def list(self, ignore_patterns):
        return super().list([*(ignore_patterns or []), *LEFT_OUT])
