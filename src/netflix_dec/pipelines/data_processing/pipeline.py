"""data_processing: raw catalogue → clean titles, a profile and six plots."""

from kedro.pipeline import Pipeline, node, pipeline

from . import nodes


def create_pipeline(**kwargs) -> Pipeline:
    return pipeline(
        [
            node(
                nodes.take_in_titles,
                ["raw_titles", "params:data_processing"],
                ["validated_titles", "raw_titles_source"],
                name="validate_titles",
            ),
            node(
                nodes.clean_titles,
                ["validated_titles", "params:data_processing"],
                ["clean_titles", "cleaning_report"],
                name="clean_titles",
            ),
            node(
                nodes.profile_titles,
                ["validated_titles", "clean_titles", "cleaning_report"],
                "data_profile",
                name="profile_titles",
            ),
            node(
                nodes.plot_titles_per_type,
                "validated_titles",
                "titles_per_type_plot",
                name="plot_titles_per_type",
            ),
            node(
                nodes.plot_titles_added_per_year,
                "validated_titles",
                "titles_added_per_year_plot",
                name="plot_titles_added_per_year",
            ),
            node(
                nodes.plot_top_genres,
                ["clean_titles", "params:data_processing"],
                "top_genres_plot",
                name="plot_top_genres",
            ),
            node(
                nodes.plot_top_countries,
                ["clean_titles", "params:data_processing"],
                "top_countries_plot",
                name="plot_top_countries",
            ),
            node(
                nodes.plot_ratings, "clean_titles", "ratings_plot", name="plot_ratings"
            ),
            node(
                nodes.plot_description_length,
                "clean_titles",
                "description_length_plot",
                name="plot_description_length",
            ),
        ],
        tags="data_processing",
        # Groups the nodes in kedro viz; dataset names stay as in the catalogue.
        namespace="data_processing",
        prefix_datasets_with_namespace=False,
    )
